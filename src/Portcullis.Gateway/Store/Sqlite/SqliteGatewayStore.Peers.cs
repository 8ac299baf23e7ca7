using System.Net;
using Microsoft.Data.Sqlite;
using static Portcullis.Gateway.Store.Sqlite.SqliteRows;

namespace Portcullis.Gateway.Store.Sqlite;

public sealed partial class SqliteGatewayStore
{
    public Task<IReadOnlyList<StoredPeer>> ListPeersAsync(CancellationToken cancellationToken = default) =>
        RunAsync<IReadOnlyList<StoredPeer>>(
            c => Query(c, null, Peer, $"SELECT {PeerColumns} FROM peers ORDER BY created_utc_ms, id"), cancellationToken);

    // LIMIT/OFFSET: a page reads its own rows (and skips the offset's in the index), not the whole table.
    public Task<(IReadOnlyList<StoredPeer> Page, int Total)> ListPeersPageAsync(int offset, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        return RunAsync<(IReadOnlyList<StoredPeer>, int)>(c =>
        {
            using var transaction = c.BeginTransaction(deferred: true);
            var page = Query(c, transaction, Peer,
                $"SELECT {PeerColumns} FROM peers ORDER BY created_utc_ms, id LIMIT $limit OFFSET $offset", ("$limit", limit), ("$offset", offset));
            var total = Query(c, transaction, row => row.GetInt32(0), "SELECT COUNT(*) FROM peers")[0];
            transaction.Commit();
            return (page, total);
        }, cancellationToken);
    }

    public Task<StoredPeer?> GetPeerAsync(string id, CancellationToken cancellationToken = default) =>
        RunAsync(c => OnePeer(c, null, "id", id), cancellationToken);

    public Task<StoredPeer?> FindPeerByPublicKeyAsync(string publicKey, CancellationToken cancellationToken = default) =>
        RunAsync(c => OnePeer(c, null, "public_key", publicKey), cancellationToken);

    public Task<StoredPeer> AddPeerAsync(NewPeer peer, TunnelAddressPool pool, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(peer);
        ArgumentNullException.ThrowIfNull(pool);
        if (peer.TunnelAddress is { } pinned && !pool.CanAssign(pinned))
            throw new ArgumentException($"{pinned} is not a host address of {pool.Prefix} other than the gateway's.", nameof(peer));
        return RunAsync(c =>
        {
            using var transaction = c.BeginTransaction(deferred: false);
            ThrowIfTaken(c, transaction, "name", peer.Name, StoreConflict.PeerName, $"A peer named '{peer.Name}' exists.");
            ThrowIfTaken(c, transaction, "public_key", peer.PublicKey, StoreConflict.PeerPublicKey, $"A peer with public key {peer.PublicKey} exists.");
            IPAddress address;
            if (peer.TunnelAddress is { } wanted)
            {
                address = wanted;
                ThrowIfTaken(c, transaction, "tunnel_address", Text(address), StoreConflict.TunnelAddress, $"Tunnel address {address} belongs to another peer.");
            }
            else
            {
                var taken = Query(c, transaction, row => IPAddress.Parse(row.GetString(0)), "SELECT tunnel_address FROM peers").ToHashSet();
                address = pool.FirstFree(taken) ?? throw pool.Exhausted(peer.Name);
            }

            var stored = new StoredPeer
            {
                Id = NewId(),
                Name = peer.Name,
                PublicKey = peer.PublicKey,
                TunnelAddress = address,
                Enabled = true,
                CreatedUtc = Now(),
            };
            InsertPeer(c, transaction, stored);
            transaction.Commit();
            return stored;
        }, cancellationToken);
    }

    public Task<bool> SetPeerEnabledAsync(string id, bool enabled, CancellationToken cancellationToken = default) =>
        RunAsync(c => Execute(c, null, "UPDATE peers SET enabled = $enabled WHERE id = $id", ("$enabled", enabled ? 1 : 0), ("$id", id)) > 0, cancellationToken);

    // Static forwards and dedicated addresses go with the peer (ON DELETE CASCADE).
    public Task<bool> RemovePeerAsync(string id, CancellationToken cancellationToken = default) =>
        RunAsync(c => Execute(c, null, "DELETE FROM peers WHERE id = $id", ("$id", id)) > 0, cancellationToken);

    private static StoredPeer? OnePeer(SqliteConnection c, SqliteTransaction? transaction, string column, string value)
    {
        var rows = Query(c, transaction, Peer, $"SELECT {PeerColumns} FROM peers WHERE {column} = $value", ("$value", value));
        return rows.Count == 0 ? null : rows[0];
    }

    private static void InsertPeer(SqliteConnection c, SqliteTransaction transaction, StoredPeer peer) =>
        Execute(c, transaction,
            $"INSERT INTO peers ({PeerColumns}) VALUES ($id, $name, $key, $address, $enabled, $created)", PeerParameters(peer));

    private static void ThrowIfTaken(
        SqliteConnection c, SqliteTransaction transaction, string column, string value, StoreConflict conflict, string message)
    {
        if (Exists(c, transaction, $"SELECT 1 FROM peers WHERE {column} = $value", ("$value", value)))
            throw new StoreConflictException(conflict, value, message);
    }
}
