using Npgsql;
using static Portcullis.Gateway.Store.Postgres.PostgresRows;

namespace Portcullis.Gateway.Store.Postgres;

// `portcullis store migrate`: one gateway's store copied into the fleet's, whole or not at all, and idempotently — a
// row already there (same id, same key) is left alone and counted, a row that clashes with a different one (a peer
// of the same name but another id, a forward key held by another peer) stops the copy with the reason.
public sealed partial class PostgresGatewayStore
{
    /// <summary>
    /// Copies <paramref name="source"/> into this store in one transaction. Dedicated addresses become
    /// <paramref name="gateway"/>'s; <paramref name="policy"/> becomes that gateway's overrides (the fleet's when
    /// <paramref name="gateway"/> is empty). <paramref name="replayFloors"/> raise the fleet's (never lower them), so an
    /// initiation captured before the move stays refused after it. Throws <see cref="StoreConflictException"/> naming the first clash;
    /// nothing is copied then.
    /// </summary>
    public Task<ImportReport> ImportAsync(
        StoreSnapshot source, ServerPolicy policy, IReadOnlyDictionary<string, byte[]> replayFloors, string gateway,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(replayFloors);
        if (replayFloors.Values.Any(floor => floor is not { Length: TimestampSize }))
            throw new ArgumentException("A replay floor is a 12-byte TAI64N timestamp.", nameof(replayFloors));
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(gateway);
        if (source.DedicatedAddresses.Count > 0 && gateway.Length == 0)
            throw new ArgumentException("The store holds dedicated addresses: name the gateway that holds them.", nameof(gateway));
        var settings = PolicySettings.Rows(policy, PolicySettings.Prefix(gateway)).Where(r => r.Value is not null).ToList();
        return WriteAsync(async (c, t) =>
        {
            var report = new ImportReport();
            foreach (var peer in source.Peers)
            {
                var existing = await OnePeerAsync(c, t, "id", peer.Id, cancellationToken).ConfigureAwait(false);
                if (existing is not null)
                {
                    report.PeersThere++;
                    continue;
                }
                await ThrowIfTakenAsync(c, t, "name", peer.Name, StoreConflict.PeerName,
                    $"Peer '{peer.Name}' exists in the fleet under another id; rename one of them first.", cancellationToken).ConfigureAwait(false);
                await ThrowIfTakenAsync(c, t, "public_key", peer.PublicKey, StoreConflict.PeerPublicKey,
                    $"Peer '{peer.Name}': its public key belongs to another peer of the fleet.", cancellationToken).ConfigureAwait(false);
                if (await ExistsAsync(c, t, "SELECT 1 FROM peers WHERE tunnel_address = $1", cancellationToken, Plain(peer.TunnelAddress)).ConfigureAwait(false))
                    throw new StoreConflictException(StoreConflict.TunnelAddress, peer.TunnelAddress.ToString(),
                        $"Peer '{peer.Name}': tunnel address {peer.TunnelAddress} belongs to another peer of the fleet.");
                await InsertPeerAsync(c, t, peer, cancellationToken).ConfigureAwait(false);
                report.Peers++;
            }
            foreach (var forward in source.Forwards)
            {
                var held = await QueryAsync(c, t, Forward,
                    $"SELECT {ForwardColumns} FROM static_forwards WHERE public_address = $1 AND protocol = $2 AND external_port = $3",
                    cancellationToken, KeyValues(forward.Key)).ConfigureAwait(false);
                if (held.Count > 0)
                {
                    if (held[0] != forward)
                        throw new StoreConflictException(StoreConflict.StaticForward, forward.Key.ToString(), $"Static forward {forward.Key} is another peer's in the fleet.");
                    report.ForwardsThere++;
                    continue;
                }
                await ThrowIfFleetClashAsync(c, t, forward.Key, cancellationToken).ConfigureAwait(false);
                await ExecuteAsync(c, t, $"INSERT INTO static_forwards ({ForwardColumns}) VALUES ($1, $2, $3, $4, $5)", cancellationToken,
                    ForwardValues(forward)).ConfigureAwait(false);
                report.Forwards++;
            }
            foreach (var dedicated in source.DedicatedAddresses)
            {
                var holders = await QueryAsync(c, t, Dedicated, $"SELECT {DedicatedColumns} FROM dedicated_addresses WHERE address = $1",
                    cancellationToken, Text(dedicated.Address)).ConfigureAwait(false);
                if (holders.Count > 0)
                {
                    if (holders[0].PeerId != dedicated.PeerId)
                        throw new StoreConflictException(StoreConflict.DedicatedAddress, Text(dedicated.Address),
                            $"Dedicated address {dedicated.Address} is another peer's in the fleet.");
                    report.DedicatedThere++;
                    continue;
                }
                await ExecuteAsync(c, t, "INSERT INTO dedicated_addresses (address, peer_id, gateway) VALUES ($1, $2, $3)", cancellationToken,
                    Text(dedicated.Address), dedicated.PeerId, gateway).ConfigureAwait(false);
                report.Dedicated++;
            }
            foreach (var (key, value) in settings)
            {
                report.Settings += await ExecuteAsync(c, t,
                    "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value " +
                    "WHERE settings.value IS DISTINCT FROM excluded.value", cancellationToken, key, value).ConfigureAwait(false);
            }
            if (replayFloors.Count > 0)
            {
                report.ReplayFloors = await ExecuteAsync(c, t, RaiseFloorsSql, cancellationToken,
                    replayFloors.Keys.ToArray(), replayFloors.Values.ToArray()).ConfigureAwait(false);
            }
            return report;
        }, cancellationToken);
    }
}

/// <summary>What a store migration copied, and what was there already (a second run copies nothing).</summary>
public sealed class ImportReport
{
    public int Peers { get; set; }
    public int PeersThere { get; set; }
    public int Forwards { get; set; }
    public int ForwardsThere { get; set; }
    public int Dedicated { get; set; }
    public int DedicatedThere { get; set; }
    public int Settings { get; set; }
    public int ReplayFloors { get; set; }

    public override string ToString() =>
        $"{Peers} peers copied ({PeersThere} already there), {Forwards} static forwards ({ForwardsThere}), " +
        $"{Dedicated} dedicated addresses ({DedicatedThere}), {Settings} policy settings written, " +
        $"{ReplayFloors} replay floors raised";
}
