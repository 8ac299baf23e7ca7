using System.Net;
using Npgsql;
using Portcullis.Gateway.Configuration;
using static Portcullis.Gateway.Store.Postgres.PostgresRows;

namespace Portcullis.Gateway.Store.Postgres;

public sealed partial class PostgresGatewayStore
{
    // The gaps among the peers' addresses of [first, last], lowest first: each taken address whose successor is free
    // (c = address + 1, next = the following taken one). One ordered pass over the tunnel-address index, no sort.
    private const string Gaps = """
        SELECT c, next FROM (
            SELECT tunnel_address + 1 AS c, lead(tunnel_address) OVER (ORDER BY tunnel_address) AS next
            FROM peers WHERE tunnel_address BETWEEN $1 AND $2
        ) g
        WHERE c <= $2 AND (next IS NULL OR next > c)
        ORDER BY c LIMIT 2
        """;

    public Task<IReadOnlyList<StoredPeer>> ListPeersAsync(CancellationToken cancellationToken = default) =>
        ReadAsync<IReadOnlyList<StoredPeer>>(async (c, t) =>
            await QueryAsync(c, t, Peer, $"SELECT {PeerColumns} FROM peers ORDER BY created_utc_ms, id", cancellationToken).ConfigureAwait(false),
            cancellationToken);

    // LIMIT/OFFSET in one read transaction with the count, so the page and the total agree.
    public Task<(IReadOnlyList<StoredPeer> Page, int Total)> ListPeersPageAsync(int offset, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        return ReadAsync<(IReadOnlyList<StoredPeer>, int)>(async (c, t) =>
        {
            var page = await QueryAsync(c, t, Peer, $"SELECT {PeerColumns} FROM peers ORDER BY created_utc_ms, id LIMIT $1 OFFSET $2",
                cancellationToken, limit, offset).ConfigureAwait(false);
            var total = await QueryAsync(c, t, row => (int)row.GetInt64(0), "SELECT COUNT(*) FROM peers", cancellationToken).ConfigureAwait(false);
            return (page, total[0]);
        }, cancellationToken);
    }

    public Task<StoredPeer?> GetPeerAsync(string id, CancellationToken cancellationToken = default) =>
        ReadAsync((c, t) => OnePeerAsync(c, t, "id", id, cancellationToken), cancellationToken);

    public Task<StoredPeer?> FindPeerByPublicKeyAsync(string publicKey, CancellationToken cancellationToken = default) =>
        ReadAsync((c, t) => OnePeerAsync(c, t, "public_key", publicKey, cancellationToken), cancellationToken);

    /// <summary>The peers with these ids that exist (a fleet change names the peers it touched).</summary>
    public Task<IReadOnlyList<StoredPeer>> GetPeersAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken = default) =>
        ReadAsync<IReadOnlyList<StoredPeer>>(async (c, t) =>
            await QueryAsync(c, t, Peer, $"SELECT {PeerColumns} FROM peers WHERE id = ANY($1)", cancellationToken, (object)ids.ToArray()).ConfigureAwait(false),
            cancellationToken);

    public Task<StoredPeer> AddPeerAsync(NewPeer peer, TunnelAddressPool pool, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(peer);
        ArgumentNullException.ThrowIfNull(pool);
        if (peer.TunnelAddress is { } pinned && !pool.CanAssign(pinned))
            throw new ArgumentException($"{pinned} is not a host address of {pool.Prefix} other than the gateway's.", nameof(peer));
        return WriteAsync(async (c, t) =>
        {
            await ThrowIfTakenAsync(c, t, "name", peer.Name, StoreConflict.PeerName, $"A peer named '{peer.Name}' exists.", cancellationToken).ConfigureAwait(false);
            await ThrowIfTakenAsync(c, t, "public_key", peer.PublicKey, StoreConflict.PeerPublicKey,
                $"A peer with public key {peer.PublicKey} exists.", cancellationToken).ConfigureAwait(false);
            IPAddress address;
            if (peer.TunnelAddress is { } wanted)
            {
                address = Plain(wanted);
                if (await ExistsAsync(c, t, "SELECT 1 FROM peers WHERE tunnel_address = $1", cancellationToken, address).ConfigureAwait(false))
                    throw new StoreConflictException(StoreConflict.TunnelAddress, address.ToString(), $"Tunnel address {address} belongs to another peer.");
            }
            else
            {
                address = await LowestFreeAsync(c, t, pool, cancellationToken).ConfigureAwait(false) ?? throw pool.Exhausted(peer.Name);
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
            await InsertPeerAsync(c, t, stored, cancellationToken).ConfigureAwait(false);
            return stored;
        }, cancellationToken);
    }

    public Task<bool> SetPeerEnabledAsync(string id, bool enabled, CancellationToken cancellationToken = default) =>
        WriteAsync(async (c, t) =>
            await ExecuteAsync(c, t, "UPDATE peers SET enabled = $1 WHERE id = $2", cancellationToken, enabled, id).ConfigureAwait(false) > 0,
            cancellationToken);

    // Static forwards, dedicated addresses and presence go with the peer (ON DELETE CASCADE).
    public Task<bool> RemovePeerAsync(string id, CancellationToken cancellationToken = default) =>
        WriteAsync(async (c, t) =>
            await ExecuteAsync(c, t, "DELETE FROM peers WHERE id = $1", cancellationToken, id).ConfigureAwait(false) > 0,
            cancellationToken);

    // The lowest host address of the pool that neither a peer nor the gateway holds.
    private static async Task<IPAddress?> LowestFreeAsync(NpgsqlConnection c, NpgsqlTransaction t, TunnelAddressPool pool, CancellationToken cancellationToken)
    {
        var first = ConfigValues.ToUInt32(pool.Prefix.BaseAddress) + 1;
        var last = ConfigValues.ToUInt32(ConfigValues.Broadcast(pool.Prefix)) - 1;
        var gateway = ConfigValues.ToUInt32(Plain(pool.Gateway));
        var firstAddress = ConfigValues.FromUInt32(first);
        var candidates = new List<(uint From, uint To)>();
        if (!await ExistsAsync(c, t, "SELECT 1 FROM peers WHERE tunnel_address = $1", cancellationToken, firstAddress).ConfigureAwait(false))
        {
            var next = await QueryAsync(c, t, row => row.GetFieldValue<IPAddress>(0),
                "SELECT min(tunnel_address) FROM peers WHERE tunnel_address BETWEEN $1 AND $2 HAVING count(*) > 0", cancellationToken,
                firstAddress, ConfigValues.FromUInt32(last)).ConfigureAwait(false);
            candidates.Add((first, next.Count == 0 ? last : ConfigValues.ToUInt32(next[0]) - 1));
        }
        var gaps = await QueryAsync(c, t, row => (From: row.GetFieldValue<IPAddress>(0), Next: row.IsDBNull(1) ? null : row.GetFieldValue<IPAddress>(1)),
            Gaps, cancellationToken, firstAddress, ConfigValues.FromUInt32(last)).ConfigureAwait(false);
        foreach (var (from, next) in gaps)
            candidates.Add((ConfigValues.ToUInt32(from), next is null ? last : ConfigValues.ToUInt32(next) - 1));
        // A gap's first address may be the gateway's own; the one after it then, if the gap goes on.
        foreach (var (from, to) in candidates.OrderBy(g => g.From))
        {
            for (var address = from; address <= to && address <= last; address++)
            {
                if (address != gateway)
                    return ConfigValues.FromUInt32(address);
            }
        }
        return null;
    }

    private static async Task<StoredPeer?> OnePeerAsync(NpgsqlConnection c, NpgsqlTransaction t, string column, string value, CancellationToken cancellationToken)
    {
        var rows = await QueryAsync(c, t, Peer, $"SELECT {PeerColumns} FROM peers WHERE {column} = $1", cancellationToken, value).ConfigureAwait(false);
        return rows.Count == 0 ? null : rows[0];
    }

    private static Task<int> InsertPeerAsync(NpgsqlConnection c, NpgsqlTransaction t, StoredPeer peer, CancellationToken cancellationToken) =>
        ExecuteAsync(c, t, $"INSERT INTO peers ({PeerColumns}) VALUES ($1, $2, $3, $4, $5, $6)", cancellationToken, PeerValues(peer));

    private static async Task ThrowIfTakenAsync(
        NpgsqlConnection c, NpgsqlTransaction t, string column, string value, StoreConflict conflict, string message, CancellationToken cancellationToken)
    {
        if (await ExistsAsync(c, t, $"SELECT 1 FROM peers WHERE {column} = $1", cancellationToken, value).ConfigureAwait(false))
            throw new StoreConflictException(conflict, value, message);
    }
}
