using System.Net;
using static Portcullis.Gateway.Store.Sqlite.SqliteRows;

namespace Portcullis.Gateway.Store.Sqlite;

public sealed partial class SqliteGatewayStore
{
    private const string UpsertForward =
        $"INSERT INTO static_forwards ({ForwardColumns}) VALUES ($address, $protocol, $external, $peer, $internal) " +
        "ON CONFLICT (public_address, protocol, external_port) DO UPDATE SET peer_id = excluded.peer_id, internal_port = excluded.internal_port";

    private const string UpsertDedicated =
        "INSERT INTO dedicated_addresses (address, peer_id) VALUES ($address, $peer) " +
        "ON CONFLICT (address) DO UPDATE SET peer_id = excluded.peer_id";

    public Task<IReadOnlyList<StoredForward>> ListForwardsAsync(string? peerId = null, CancellationToken cancellationToken = default) =>
        RunAsync<IReadOnlyList<StoredForward>>(
            c => peerId is null
                ? Query(c, null, Forward, $"SELECT {ForwardColumns} FROM static_forwards ORDER BY public_address, external_port, protocol")
                : Query(c, null, Forward, $"SELECT {ForwardColumns} FROM static_forwards WHERE peer_id = $peer ORDER BY public_address, external_port, protocol", ("$peer", peerId)),
            cancellationToken);

    public Task<StoredForward?> AddForwardAsync(StoredForward forward, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(forward);
        if (forward.ExternalPort == 0 || forward.InternalPort == 0)
            throw new ArgumentException("Ports of a static forward are 1-65535.", nameof(forward));
        return RunAsync(c =>
        {
            using var transaction = c.BeginTransaction(deferred: false);
            if (!Exists(c, transaction, "SELECT 1 FROM peers WHERE id = $id", ("$id", forward.PeerId)))
                return null;
            if (Exists(c, transaction,
                    "SELECT 1 FROM static_forwards WHERE public_address = $address AND protocol = $protocol AND external_port = $external",
                    KeyParameters(forward.Key)))
                throw new StoreConflictException(StoreConflict.StaticForward, forward.Key.ToString(), $"Static forward {forward.Key} exists.");
            Execute(c, transaction,
                $"INSERT INTO static_forwards ({ForwardColumns}) VALUES ($address, $protocol, $external, $peer, $internal)",
                ForwardParameters(forward));
            transaction.Commit();
            return forward;
        }, cancellationToken);
    }

    public Task<bool> RemoveForwardAsync(ForwardKey key, CancellationToken cancellationToken = default) =>
        RunAsync(c => Execute(c, null,
            "DELETE FROM static_forwards WHERE public_address = $address AND protocol = $protocol AND external_port = $external",
            KeyParameters(key)) > 0, cancellationToken);

    public Task<IReadOnlyList<DedicatedAddress>> ListDedicatedAddressesAsync(CancellationToken cancellationToken = default) =>
        RunAsync<IReadOnlyList<DedicatedAddress>>(
            c => Query(c, null, Dedicated, "SELECT address, peer_id FROM dedicated_addresses ORDER BY address"), cancellationToken);

    public Task<DedicatedAddress?> AssignDedicatedAddressAsync(IPAddress address, string peerId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(address);
        return RunAsync(c =>
        {
            using var transaction = c.BeginTransaction(deferred: false);
            if (!Exists(c, transaction, "SELECT 1 FROM peers WHERE id = $id", ("$id", peerId)))
                return null;
            var holders = Query(c, transaction, row => row.GetString(0),
                "SELECT peer_id FROM dedicated_addresses WHERE address = $address", ("$address", Text(address)));
            if (holders.Count > 0 && holders[0] != peerId)
                throw new StoreConflictException(StoreConflict.DedicatedAddress, Text(address), $"Dedicated address {address} belongs to another peer.");
            if (holders.Count == 0)
                Execute(c, transaction, "INSERT INTO dedicated_addresses (address, peer_id) VALUES ($address, $peer)",
                    ("$address", Text(address)), ("$peer", peerId));
            transaction.Commit();
            return new DedicatedAddress(address, peerId);
        }, cancellationToken);
    }

    public Task<bool> ReleaseDedicatedAddressAsync(IPAddress address, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(address);
        return RunAsync(c => Execute(c, null, "DELETE FROM dedicated_addresses WHERE address = $address", ("$address", Text(address))) > 0,
            cancellationToken);
    }
}
