using System.Net;
using Portcullis.Gateway.Fleet;
using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Store;

namespace Portcullis.Gateway.Admin;

// A fleet's changes, applied here as the operator's own are: under the same gate, store first (already written, by
// whichever gateway), then directory → device → service → flows. Applying is idempotent — a change this gateway made
// comes back as a notification and finds nothing left to do — so "everything" after a reconnect is the same code as
// one peer. A peer the store no longer holds is removed here; a disabled one is cut off here.
public sealed partial class GatewayOperations
{
    private IFleetStore? _fleet;
    private Func<string?> _storeAway = static () => null;

    /// <summary>
    /// Makes this a fleet member's operations: changes of other gateways come through <see cref="ApplyFleetChangesAsync"/>,
    /// <paramref name="storeAway"/> gives the reason writes are refused at once while the database is away (null
    /// while it is there).
    /// </summary>
    internal void AttachFleet(IFleetStore fleet, Func<string?> storeAway)
    {
        _fleet = fleet;
        _storeAway = storeAway;
    }

    /// <summary>The gateway's name in its fleet; null for one box.</summary>
    public string? GatewayName => _scope.Gateway.Length > 0 ? _scope.Gateway : null;

    /// <summary>The fleet's gateways (one box: none) and which gateway each connected peer is on (presence).</summary>
    public async Task<FleetView> GetFleetAsync(CancellationToken cancellationToken = default)
    {
        if (_fleet is null)
            return new FleetView([], []);
        var gateways = await _fleet.ListGatewaysAsync(cancellationToken).ConfigureAwait(false);
        var presence = await _fleet.ListPresenceAsync(cancellationToken).ConfigureAwait(false);
        return new FleetView(gateways, presence);
    }

    // Where each peer is connected elsewhere in the fleet, by presence (this gateway's own rows aside: its device knows).
    private async Task<Dictionary<string, string>> WhereConnectedAsync(CancellationToken cancellationToken)
    {
        var where = new Dictionary<string, string>(StringComparer.Ordinal);
        if (_fleet is null)
            return where;
        foreach (var row in await _fleet.ListPresenceAsync(cancellationToken).ConfigureAwait(false))
        {
            if (row.Gateway == GatewayName)
                continue;
            where[row.PeerId] = where.TryGetValue(row.PeerId, out var others) ? $"{others},{row.Gateway}" : row.Gateway;
        }
        return where;
    }

    /// <summary>Applies what changed in the shared store (a notification, or everything after a reconnect).</summary>
    internal async Task ApplyFleetChangesAsync(FleetChanges changes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(changes);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (changes.Everything)
            {
                await ApplyEverythingLockedAsync(cancellationToken).ConfigureAwait(false);
                await ApplyStoredPolicyLockedAsync(cancellationToken).ConfigureAwait(false);
                return;
            }
            if (changes.PeerIds.Count > 0)
                await ApplyPeersLockedAsync(changes.PeerIds, cancellationToken).ConfigureAwait(false);
            if (changes.Policy)
                await ApplyStoredPolicyLockedAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    public string? LastKnownOnly => _storeAway() is { } reason
        ? $"The fleet's database is away ({reason}); peers as gateway {GatewayName} last knew them."
        : null;

    // The directory holds every peer of the fleet as last applied here: the same views, in the store's order, with
    // this gateway's dedicated addresses and no presence of other gateways. By id first, then by name, as ResolveAsync.
    private List<PeerView> LastKnownPeers(string? idOrName)
    {
        var dedicated = new Dictionary<string, PeerDedicated>(StringComparer.Ordinal);
        foreach (var assignment in _service.DedicatedAddresses)
            dedicated[assignment.PeerId] = dedicated.GetValueOrDefault(assignment.PeerId).With(assignment.PublicAddress);
        var peers = _peers.Snapshot().OrderBy(p => p.CreatedUtc).ThenBy(p => p.Id, StringComparer.Ordinal).ToList();
        if (idOrName is not null)
        {
            var byId = peers.Where(p => p.Id == idOrName).ToList();
            peers = byId.Count > 0 ? byId : [.. peers.Where(p => p.Name == idOrName)];
        }
        return [.. peers.Select(p => View(p, dedicated.GetValueOrDefault(p.Id)))];
    }

    private void ThrowIfStoreAway()
    {
        if (_storeAway() is { } reason)
            throw new StoreException($"The fleet's database is away ({reason}); this gateway serves what it holds but takes no changes until it is back.");
    }

    private async Task ApplyEverythingLockedAsync(CancellationToken cancellationToken)
    {
        var peers = await _store.ListPeersAsync(cancellationToken).ConfigureAwait(false);
        var forwards = await _store.ListForwardsAsync(null, cancellationToken).ConfigureAwait(false);
        var dedicated = await _store.ListDedicatedAddressesAsync(cancellationToken).ConfigureAwait(false);
        var stored = peers.ToDictionary(p => p.Id, StringComparer.Ordinal);
        foreach (var known in _peers.Snapshot())
        {
            if (!stored.ContainsKey(known.Id))
                ApplyPeerLocked(known.Id, null);
        }
        foreach (var peer in peers)
            ApplyPeerLocked(peer.Id, peer);
        _service.SetStaticForwards(_scope.Rules(forwards, _scope.OwnDedicated(dedicated)));
        PublishDedicatedIfChanged(dedicated);
    }

    private async Task ApplyPeersLockedAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken)
    {
        var fleet = _fleet ?? throw new InvalidOperationException("Not a fleet member.");
        var peers = (await fleet.GetPeersAsync(ids, cancellationToken).ConfigureAwait(false)).ToDictionary(p => p.Id, StringComparer.Ordinal);
        var forwards = await fleet.ListForwardsOfAsync(ids, cancellationToken).ConfigureAwait(false);
        var dedicated = await _store.ListDedicatedAddressesAsync(cancellationToken).ConfigureAwait(false);
        var own = _scope.OwnDedicated(dedicated);
        foreach (var id in ids)
        {
            var peer = peers.GetValueOrDefault(id);
            ApplyPeerLocked(id, peer);
            // A removed peer's rules went with it (ApplyPeerLocked); the others get exactly what the store holds.
            if (peer is not null)
                _service.ReplaceStaticForwardsOf(id, _scope.Rules(forwards.Where(f => f.PeerId == id), own));
        }
        PublishDedicatedIfChanged(dedicated);
    }

    // One peer's directory entry, device peer and session made to match the store's row (null: removed).
    private void ApplyPeerLocked(string id, StoredPeer? stored)
    {
        var current = _peers.FindById(id);
        if (stored is null)
        {
            if (current is null)
                return;
            lock (_peers.SessionGate)
            {
                _peers.Remove(id);
                EndSession(current);
            }
            _flows.Cut(current.TunnelAddress);
            _service.RemoveStaticForwardsOf(id);
            GatewayOperationsLog.PeerRemoved(_logger, current.Name, current.TunnelAddress);
            return;
        }
        if (current == stored)
            return;
        var cut = current is not null && current.Enabled
            && (!stored.Enabled || current.PublicKey != stored.PublicKey || !current.TunnelAddress.Equals(stored.TunnelAddress));
        lock (_peers.SessionGate)
        {
            if (cut)
                EndSession(current!);
            _peers.Upsert(stored);
            if (stored.Enabled)
                _device.AddPeer(stored);
        }
        if (cut)
            _flows.Cut(current!.TunnelAddress);
        if (current is null)
            GatewayOperationsLog.PeerAdded(_logger, stored.Name, stored.TunnelAddress, generatedKey: false);
        else if (current.Enabled != stored.Enabled)
            GatewayOperationsLog.PeerEnabledChanged(_logger, stored.Name, stored.Enabled);
    }

    private void PublishDedicatedIfChanged(IReadOnlyList<DedicatedAddress> dedicated)
    {
        var next = Assignments(dedicated, _peers, _scope, _service.Ipv6?.Tunnel);
        var current = _service.DedicatedAddresses;
        if (next.Count != current.Count || !next.ToHashSet().SetEquals(current))
            _service.SetDedicatedAddresses(next);
    }

    private async Task ApplyStoredPolicyLockedAsync(CancellationToken cancellationToken)
    {
        var overrides = await LayeredOverridesAsync(cancellationToken).ConfigureAwait(false);
        ForwardingPolicy effective;
        try
        {
            effective = Effective(overrides, _configuredPolicy);
        }
        catch (AdminRequestException e)
        {
            GatewayOperationsLog.StoredPolicyInvalid(_logger, e.Message);
            return;
        }
        if (effective != _service.Policy)
        {
            try
            {
                SetInboundLimits(effective.InboundLimits, _service.Policy.InboundLimits);
            }
            catch (Forwarding.ForwardingTableException e)
            {
                // The rest of the policy still applies; the limits stay as they were until the next change.
                GatewayOperationsLog.InboundLimitsRefused(_logger, e.Message);
            }
            _service.UpdatePolicy(effective);
            GatewayOperationsLog.PolicySet(_logger);
        }
    }

    /// <summary>The fleet's overrides with this gateway's on top (one box: the store's only set).</summary>
    internal async Task<ServerPolicy> LayeredOverridesAsync(CancellationToken cancellationToken)
    {
        var fleet = await _store.GetPolicyAsync(cancellationToken).ConfigureAwait(false);
        if (GatewayName is not { } name)
            return fleet;
        return (await _store.GetGatewayPolicyAsync(name, cancellationToken).ConfigureAwait(false)).Over(fleet);
    }
}

/// <summary>The fleet as the store's status board shows it.</summary>
public sealed record FleetView(IReadOnlyList<FleetGateway> Gateways, IReadOnlyList<PeerPresence> Presence);
