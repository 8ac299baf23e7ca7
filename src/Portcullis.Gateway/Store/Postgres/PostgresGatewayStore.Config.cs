using Npgsql;
using static Portcullis.Gateway.Store.Postgres.PostgresRows;

namespace Portcullis.Gateway.Store.Postgres;

/// <summary>
/// The config file's peers, applied in one transaction under the write lock: snapshot →
/// <see cref="ConfigPeerPlanner.Plan"/> → writes. The peers' unique constraints are deferred to the commit, so swaps
/// (two peers trading addresses, a name passing from one peer to another) never trip them half way.
/// </summary>
public sealed partial class PostgresGatewayStore
{
    public Task<ConfigPeerChanges> ApplyConfigPeersAsync(
        IReadOnlyList<ConfiguredPeer> peers, TunnelAddressPool pool, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(peers);
        ArgumentNullException.ThrowIfNull(pool);
        return WriteAsync(async (c, t) =>
        {
            var snapshot = new StoreSnapshot(
                await QueryAsync(c, t, Peer, $"SELECT {PeerColumns} FROM peers ORDER BY created_utc_ms, id", cancellationToken).ConfigureAwait(false),
                await QueryAsync(c, t, Forward, $"SELECT {ForwardColumns} FROM static_forwards", cancellationToken).ConfigureAwait(false),
                await QueryAsync(c, t, Dedicated, $"SELECT {DedicatedColumns} FROM dedicated_addresses", cancellationToken).ConfigureAwait(false));
            var changes = ConfigPeerPlanner.Plan(peers, snapshot, pool, Now(), NewId);
            if (changes.IsEmpty)
                return changes;

            await ExecuteAsync(c, t, "SET CONSTRAINTS peers_name_key, peers_public_key_key, peers_tunnel_address_key DEFERRED", cancellationToken)
                .ConfigureAwait(false);
            foreach (var peer in changes.Updated)
            {
                await ExecuteAsync(c, t, "UPDATE peers SET name = $2, public_key = $3, tunnel_address = $4 WHERE id = $1", cancellationToken,
                    peer.Id, peer.Name, peer.PublicKey, Plain(peer.TunnelAddress)).ConfigureAwait(false);
            }
            foreach (var peer in changes.Added)
                await InsertPeerAsync(c, t, peer, cancellationToken).ConfigureAwait(false);
            foreach (var assignment in changes.DedicatedAddresses)
                await ExecuteAsync(c, t, UpsertDedicated, cancellationToken, Text(assignment.Address), assignment.PeerId, Gateway).ConfigureAwait(false);
            foreach (var forward in changes.Forwards)
            {
                await ThrowIfFleetClashAsync(c, t, forward.Key, cancellationToken).ConfigureAwait(false);
                await ExecuteAsync(c, t, UpsertForward, cancellationToken, ForwardValues(forward)).ConfigureAwait(false);
            }
            return changes;
        }, cancellationToken);
    }
}
