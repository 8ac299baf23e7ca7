using System.Net;
using Npgsql;
using static Portcullis.Gateway.Store.Postgres.PostgresRows;

namespace Portcullis.Gateway.Store.Postgres;

// Static forwards in a fleet: a forward pinned to an address lives on the gateway that holds the address; a
// fleet-wide one (0.0.0.0) lives on the gateway its peer is connected to, on that gateway's first shared address. So a
// fleet-wide (protocol, port) clashes with a forward pinned to any gateway's first shared address on the same
// (protocol, port), and the other way round: two peers must never meet on one public address and port.
public sealed partial class PostgresGatewayStore
{
    private const string UpsertForward =
        $"INSERT INTO static_forwards ({ForwardColumns}) VALUES ($1, $2, $3, $4, $5) " +
        "ON CONFLICT (public_address, protocol, external_port) DO UPDATE SET peer_id = excluded.peer_id, internal_port = excluded.internal_port";

    private const string UpsertDedicated =
        "INSERT INTO dedicated_addresses (address, peer_id, gateway) VALUES ($1, $2, $3) " +
        "ON CONFLICT (address) DO UPDATE SET peer_id = excluded.peer_id, gateway = excluded.gateway";

    // A pinned forward on some gateway's first shared address, with this (protocol, port).
    private const string PinnedOnADefaultAddress =
        "SELECT f.public_address FROM static_forwards f JOIN gateways g ON g.default_address = f.public_address " +
        "WHERE f.protocol = $1 AND f.external_port = $2 LIMIT 1";

    public Task<IReadOnlyList<StoredForward>> ListForwardsAsync(string? peerId = null, CancellationToken cancellationToken = default) =>
        ReadAsync<IReadOnlyList<StoredForward>>(async (c, t) => peerId is null
            ? await QueryAsync(c, t, Forward, $"SELECT {ForwardColumns} FROM static_forwards ORDER BY public_address, external_port, protocol",
                cancellationToken).ConfigureAwait(false)
            : await QueryAsync(c, t, Forward, $"SELECT {ForwardColumns} FROM static_forwards WHERE peer_id = $1 ORDER BY public_address, external_port, protocol",
                cancellationToken, peerId).ConfigureAwait(false),
            cancellationToken);

    /// <summary>The static forwards of these peers (a fleet change names the peers it touched).</summary>
    public Task<IReadOnlyList<StoredForward>> ListForwardsOfAsync(IReadOnlyCollection<string> peerIds, CancellationToken cancellationToken = default) =>
        ReadAsync<IReadOnlyList<StoredForward>>(async (c, t) =>
            await QueryAsync(c, t, Forward, $"SELECT {ForwardColumns} FROM static_forwards WHERE peer_id = ANY($1)", cancellationToken,
                (object)peerIds.ToArray()).ConfigureAwait(false),
            cancellationToken);

    public Task<StoredForward?> AddForwardAsync(StoredForward forward, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(forward);
        if (forward.ExternalPort == 0 || forward.InternalPort == 0)
            throw new ArgumentException("Ports of a static forward are 1-65535.", nameof(forward));
        return WriteAsync<StoredForward?>(async (c, t) =>
        {
            if (!await ExistsAsync(c, t, "SELECT 1 FROM peers WHERE id = $1", cancellationToken, forward.PeerId).ConfigureAwait(false))
                return null;
            if (await ExistsAsync(c, t, "SELECT 1 FROM static_forwards WHERE public_address = $1 AND protocol = $2 AND external_port = $3",
                    cancellationToken, KeyValues(forward.Key)).ConfigureAwait(false))
                throw new StoreConflictException(StoreConflict.StaticForward, forward.Key.ToString(), $"Static forward {forward.Key} exists.");
            await ThrowIfFleetClashAsync(c, t, forward.Key, cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(c, t, $"INSERT INTO static_forwards ({ForwardColumns}) VALUES ($1, $2, $3, $4, $5)", cancellationToken,
                ForwardValues(forward)).ConfigureAwait(false);
            return forward;
        }, cancellationToken);
    }

    public Task<bool> RemoveForwardAsync(ForwardKey key, CancellationToken cancellationToken = default) =>
        WriteAsync(async (c, t) => await ExecuteAsync(c, t,
            "DELETE FROM static_forwards WHERE public_address = $1 AND protocol = $2 AND external_port = $3", cancellationToken,
            KeyValues(key)).ConfigureAwait(false) > 0, cancellationToken);

    public Task<IReadOnlyList<DedicatedAddress>> ListDedicatedAddressesAsync(CancellationToken cancellationToken = default) =>
        ReadAsync<IReadOnlyList<DedicatedAddress>>(async (c, t) =>
            await QueryAsync(c, t, Dedicated, $"SELECT {DedicatedColumns} FROM dedicated_addresses ORDER BY address", cancellationToken).ConfigureAwait(false),
            cancellationToken);

    public Task<DedicatedAddress?> AssignDedicatedAddressAsync(IPAddress address, string peerId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(address);
        return WriteAsync<DedicatedAddress?>(async (c, t) =>
        {
            if (!await ExistsAsync(c, t, "SELECT 1 FROM peers WHERE id = $1", cancellationToken, peerId).ConfigureAwait(false))
                return null;
            var holders = await QueryAsync(c, t, row => (Peer: row.GetString(0), Gateway: row.GetString(1)),
                "SELECT peer_id, gateway FROM dedicated_addresses WHERE address = $1", cancellationToken, Text(address)).ConfigureAwait(false);
            if (holders.Count > 0 && holders[0].Peer != peerId)
                throw new StoreConflictException(StoreConflict.DedicatedAddress, Text(address), $"Dedicated address {address} belongs to another peer.");
            if (holders.Count > 0)
                return new DedicatedAddress(Plain(address), peerId) { Gateway = holders[0].Gateway };
            await ExecuteAsync(c, t, "INSERT INTO dedicated_addresses (address, peer_id, gateway) VALUES ($1, $2, $3)", cancellationToken,
                Text(address), peerId, Gateway).ConfigureAwait(false);
            return new DedicatedAddress(Plain(address), peerId) { Gateway = Gateway };
        }, cancellationToken);
    }

    public Task<bool> ReleaseDedicatedAddressAsync(IPAddress address, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(address);
        return WriteAsync(async (c, t) =>
            await ExecuteAsync(c, t, "DELETE FROM dedicated_addresses WHERE address = $1", cancellationToken, Text(address)).ConfigureAwait(false) > 0,
            cancellationToken);
    }

    // See the note at the top: fleet-wide against pinned-on-a-first-address, both ways.
    private static async Task ThrowIfFleetClashAsync(NpgsqlConnection c, NpgsqlTransaction t, ForwardKey key, CancellationToken cancellationToken)
    {
        var protocol = Text(key.Protocol);
        int port = key.ExternalPort;
        if (key.PublicAddress.Equals(StoredForward.AnyGateway))
        {
            var pinned = await QueryAsync(c, t, row => row.GetString(0), PinnedOnADefaultAddress, cancellationToken, protocol, port).ConfigureAwait(false);
            if (pinned.Count > 0)
                throw new StoreConflictException(StoreConflict.StaticForward, $"{pinned[0]} {protocol} {port}",
                    $"Static forward {pinned[0]} {protocol} {port} holds that port on a gateway's first shared address, where a fleet-wide forward would live.");
            return;
        }
        if (await ExistsAsync(c, t, "SELECT 1 FROM gateways WHERE default_address = $1", cancellationToken, Text(key.PublicAddress)).ConfigureAwait(false)
            && await ExistsAsync(c, t, "SELECT 1 FROM static_forwards WHERE public_address = $1 AND protocol = $2 AND external_port = $3",
                cancellationToken, Text(StoredForward.AnyGateway), protocol, port).ConfigureAwait(false))
            throw new StoreConflictException(StoreConflict.StaticForward, $"0.0.0.0 {protocol} {port}",
                $"A fleet-wide static forward holds {protocol} {port} on every gateway's first shared address, {key.PublicAddress} included.");
    }
}
