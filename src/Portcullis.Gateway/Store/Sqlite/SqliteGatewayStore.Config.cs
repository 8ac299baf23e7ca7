using Microsoft.Data.Sqlite;
using static Portcullis.Gateway.Store.Sqlite.SqliteRows;

namespace Portcullis.Gateway.Store.Sqlite;

/// <summary>
/// The config file's peers, applied in one transaction: snapshot → <see cref="ConfigPeerPlanner.Plan"/> → writes.
/// Updated peers first get placeholder names, keys and addresses, so that swaps (two peers trading addresses,
/// a name passing from one peer to another) never trip a unique constraint half way.
/// </summary>
public sealed partial class SqliteGatewayStore
{
    public Task<ConfigPeerChanges> ApplyConfigPeersAsync(
        IReadOnlyList<ConfiguredPeer> peers, TunnelAddressPool pool, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(peers);
        ArgumentNullException.ThrowIfNull(pool);
        return RunAsync(c =>
        {
            using var transaction = c.BeginTransaction(deferred: false);
            var changes = ConfigPeerPlanner.Plan(peers, Snapshot(c, transaction), pool, Now(), NewId);
            if (changes.IsEmpty)
                return changes;

            foreach (var peer in changes.Updated)
            {
                var placeholder = "~" + peer.Id;
                Execute(c, transaction, "UPDATE peers SET name = $p, public_key = $p, tunnel_address = $p WHERE id = $id",
                    ("$p", placeholder), ("$id", peer.Id));
            }
            foreach (var peer in changes.Updated)
            {
                Execute(c, transaction, "UPDATE peers SET name = $name, public_key = $key, tunnel_address = $address WHERE id = $id",
                    PeerParameters(peer));
            }
            foreach (var peer in changes.Added)
                InsertPeer(c, transaction, peer);
            foreach (var assignment in changes.DedicatedAddresses)
                Execute(c, transaction, UpsertDedicated, ("$address", Text(assignment.Address)), ("$peer", assignment.PeerId));
            foreach (var forward in changes.Forwards)
                Execute(c, transaction, UpsertForward, ForwardParameters(forward));
            transaction.Commit();
            return changes;
        }, cancellationToken);
    }

    private static StoreSnapshot Snapshot(SqliteConnection c, SqliteTransaction transaction) => new(
        Query(c, transaction, Peer, $"SELECT {PeerColumns} FROM peers ORDER BY created_utc_ms, id"),
        Query(c, transaction, Forward, $"SELECT {ForwardColumns} FROM static_forwards"),
        Query(c, transaction, Dedicated, "SELECT address, peer_id FROM dedicated_addresses"));
}
