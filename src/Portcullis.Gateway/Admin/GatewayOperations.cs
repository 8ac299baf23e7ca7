using System.Net;
using System.Reflection;
using Microsoft.Extensions.Logging;
using Portcullis.Gateway.Configuration;
using Portcullis.Gateway.Fleet;
using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Peers;
using Portcullis.Gateway.Store;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Admin;

// The operator's changes, each in the same order: validate → store (the truth; a returned change survives a
// restart) → in-memory directory (session events resolve peers there) → device → forwarding service → flows.
//  add peer:     store allocates the address → directory → device (can connect now)
//  remove peer:  store (forwards and dedicated addresses go with it) → directory → device (session ends) →
//                service (its mappings and static forwards leave the kernel with their flows) → conntrack by source;
//                directory, device and service change under the directory's session gate, which the session-event
//                pump holds too, so a start event racing the removal cannot revive the session
//  disable:      as remove, but the peer stays stored; enable puts it back into the device
// Changes are serialized by one gate, so two operator calls never interleave their store and live steps.

/// <summary>
/// <see cref="IGatewayOperations"/> over the store, the WireGuard device, the session directory and the forwarding
/// service of one running gateway. Built by the host (GatewayHost.Operations).
/// </summary>
public sealed partial class GatewayOperations : IGatewayOperations, IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly IGatewayStore _store;
    private readonly GatewayIdentity _identity;
    private readonly ForwardingPolicy _configuredPolicy;
    private readonly IGatewayPeerDevice _device;
    private readonly IForwardingAdmin _service;
    private readonly PeerDirectory _peers;
    private readonly IPeerFlows _flows;
    private readonly ILogger _logger;
    private readonly GatewayScope _scope;

    internal GatewayOperations(
        IGatewayStore store,
        GatewayIdentity identity,
        ForwardingPolicy configuredPolicy,
        IGatewayPeerDevice device,
        IForwardingAdmin service,
        PeerDirectory peers,
        IPeerFlows flows,
        ILogger logger,
        GatewayScope? scope = null)
    {
        _store = store;
        _identity = identity;
        _configuredPolicy = configuredPolicy;
        _device = device;
        _service = service;
        _peers = peers;
        _flows = flows;
        _logger = logger;
        _scope = scope ?? new GatewayScope("", identity.PublicAddresses, identity.PublicAddresses6,
            identity.Ipv6 is { Routed: true } routed ? routed.Prefix : null);
    }

    public async Task<IReadOnlyList<PeerView>> ListPeersAsync(CancellationToken cancellationToken = default)
    {
        if (LastKnownOnly is not null)
            return LastKnownPeers(null);
        var peers = await _store.ListPeersAsync(cancellationToken).ConfigureAwait(false);
        var dedicated = await DedicatedByPeerAsync(cancellationToken).ConfigureAwait(false);
        var where = await WhereConnectedAsync(cancellationToken).ConfigureAwait(false);
        var views = new List<PeerView>(peers.Count);
        foreach (var peer in peers)
            views.Add(View(peer, dedicated.GetValueOrDefault(peer.Id), where.GetValueOrDefault(peer.Id)));
        return views;
    }

    public async Task<(IReadOnlyList<PeerView> Page, int Total)> ListPeersPageAsync(int offset, int limit, CancellationToken cancellationToken = default)
    {
        var (peers, total) = await _store.ListPeersPageAsync(offset, limit, cancellationToken).ConfigureAwait(false);
        var dedicated = await DedicatedByPeerAsync(cancellationToken).ConfigureAwait(false);
        var views = new List<PeerView>(peers.Count);
        foreach (var peer in peers)
            views.Add(View(peer, dedicated.GetValueOrDefault(peer.Id)));
        return (views, total);
    }

    public async Task<PeerView?> GetPeerAsync(string idOrName, CancellationToken cancellationToken = default)
    {
        if (LastKnownOnly is not null)
            return LastKnownPeers(idOrName) is [var known, ..] ? known : null;
        var peer = await ResolveAsync(idOrName, cancellationToken).ConfigureAwait(false);
        if (peer is null)
            return null;
        var dedicated = await DedicatedByPeerAsync(cancellationToken).ConfigureAwait(false);
        var where = await WhereConnectedAsync(cancellationToken).ConfigureAwait(false);
        return View(peer, dedicated.GetValueOrDefault(peer.Id), where.GetValueOrDefault(peer.Id));
    }

    public async Task<bool> RemovePeerAsync(string idOrName, CancellationToken cancellationToken = default)
    {
        ThrowIfStoreAway();
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var peer = await ResolveAsync(idOrName, cancellationToken).ConfigureAwait(false);
            if (peer is null)
                return false;
            var hadDedicated = (await DedicatedByPeerAsync(cancellationToken).ConfigureAwait(false)).ContainsKey(peer.Id);
            if (!await _store.RemovePeerAsync(peer.Id, cancellationToken).ConfigureAwait(false))
                return false;
            lock (_peers.SessionGate)
            {
                _peers.Remove(peer.Id);
                EndSession(peer);
            }
            _flows.Cut(peer.TunnelAddress);
            _service.RemoveStaticForwardsOf(peer.Id);
            if (hadDedicated)
                await PublishDedicatedAsync(cancellationToken).ConfigureAwait(false);
            GatewayOperationsLog.PeerRemoved(_logger, peer.Name, peer.TunnelAddress);
            return true;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<bool> SetPeerEnabledAsync(string idOrName, bool enabled, CancellationToken cancellationToken = default)
    {
        ThrowIfStoreAway();
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var peer = await ResolveAsync(idOrName, cancellationToken).ConfigureAwait(false);
            if (peer is null)
                return false;
            if (!await _store.SetPeerEnabledAsync(peer.Id, enabled, cancellationToken).ConfigureAwait(false))
                return false;
            var changed = peer with { Enabled = enabled };
            lock (_peers.SessionGate)
            {
                _peers.Upsert(changed);
                if (enabled)
                    _device.AddPeer(changed);
                else
                    EndSession(changed);
            }
            if (!enabled)
                _flows.Cut(peer.TunnelAddress);
            GatewayOperationsLog.PeerEnabledChanged(_logger, peer.Name, enabled);
            return true;
        }
        finally
        {
            _gate.Release();
        }
    }

    public IReadOnlyList<ActiveMapping> ListMappings() => _service.Mappings;

    public bool RevokeMapping(IPAddress publicAddress, MappingProtocol protocol, ushort publicPort)
    {
        ArgumentNullException.ThrowIfNull(publicAddress);
        return _service.Revoke(publicAddress, protocol, publicPort);
    }

    public GatewayStatus GetStatus()
    {
        var peers = _peers.Snapshot();
        var connected = 0;
        foreach (var peer in peers)
        {
            if (peer.Enabled && _device.GetLink(peer.PublicKey).Connected)
                connected++;
        }
        return new GatewayStatus
        {
            Interface = _identity.Interface,
            PublicKey = _identity.PublicKey,
            ListenPort = _identity.ListenPort,
            PublicAddresses = _identity.PublicAddresses,
            Peers = peers.Count,
            ConnectedPeers = connected,
            DynamicMappings = _service.Mappings.Count,
            LiveStaticForwards = _service.LiveStaticForwardCount,
            EpochSeconds = _service.EpochSeconds,
            StartedUtc = _identity.StartedUtc,
            Version = Version,
        };
    }

    private static string Version { get; } =
        typeof(GatewayOperations).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(GatewayOperations).Assembly.GetName().Version?.ToString() ?? "unknown";

    // Out of the device (its session ends), then the forwarding state at once rather than when the queued end event
    // gets its turn. Called under the directory's session gate, after the directory changed: a start event the pump
    // resolved a moment earlier has either been applied already (and is ended here) or waits for the gate and then
    // finds the peer gone or disabled — it can never bring the session back after this.
    private void EndSession(StoredPeer peer)
    {
        _device.RemovePeer(peer.PublicKey);
        _service.PeerSessionEnded(peer.Id);
    }

    private PeerView View(StoredPeer peer, PeerDedicated dedicated, string? elsewhere = null)
    {
        var link = peer.Enabled ? _device.GetLink(peer.PublicKey) : default;
        return new PeerView
        {
            Id = peer.Id,
            Name = peer.Name,
            PublicKey = peer.PublicKey,
            TunnelAddress = peer.TunnelAddress,
            TunnelAddress6 = _identity.Ipv6 is { } ipv6 && ipv6.Ipv4Prefix.Contains(peer.TunnelAddress) ? ipv6.Twin(peer.TunnelAddress) : null,
            DedicatedAddress = dedicated.V4,
            DedicatedAddress6 = dedicated.V6,
            Enabled = peer.Enabled,
            CreatedUtc = peer.CreatedUtc,
            Connected = link.Connected,
            LastHandshakeUtc = link.LastHandshakeUtc,
            ReceivedBytes = link.ReceivedBytes,
            SentBytes = link.SentBytes,
            Gateway = link.Connected && GatewayName is { } here ? here : elsewhere,
        };
    }

    /// <summary>By id first (ids are opaque and unique), then by name.</summary>
    private async Task<StoredPeer?> ResolveAsync(string idOrName, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(idOrName))
            return null;
        var byId = await _store.GetPeerAsync(idOrName, cancellationToken).ConfigureAwait(false);
        if (byId is not null)
            return byId;
        foreach (var peer in await _store.ListPeersAsync(cancellationToken).ConfigureAwait(false))
        {
            if (string.Equals(peer.Name, idOrName, StringComparison.Ordinal))
                return peer;
        }
        return null;
    }

    private async Task<Dictionary<string, PeerDedicated>> DedicatedByPeerAsync(CancellationToken cancellationToken)
    {
        var byPeer = new Dictionary<string, PeerDedicated>(StringComparer.Ordinal);
        foreach (var assignment in await _store.ListDedicatedAddressesAsync(cancellationToken).ConfigureAwait(false))
        {
            if (_scope.Owns(assignment))
                byPeer[assignment.PeerId] = byPeer.GetValueOrDefault(assignment.PeerId).With(assignment.Address);
        }
        return byPeer;
    }

    /// <summary>The host disposes the operations after the admin server that calls them has stopped.</summary>
    public void Dispose() => _gate.Dispose();

    // The service takes the whole set each time (it diffs against the kernel itself).
    private async Task PublishDedicatedAsync(CancellationToken cancellationToken) =>
        _service.SetDedicatedAddresses(Assignments(await _store.ListDedicatedAddressesAsync(cancellationToken).ConfigureAwait(false), _peers, _scope, _service.Ipv6?.Tunnel));

    /// <summary>
    /// The store's dedicated addresses that are this gateway's (<paramref name="scope"/>) as the service's assignments
    /// (the host loads them at start with this too).
    /// </summary>
    /// An IPv6 address goes with the peer's IPv6 tunnel address (<paramref name="tunnel6"/>'s twin of its IPv4 one);
    /// without IPv6 in the tunnel it keeps the IPv4 one, and the service refuses it with the reason.
    internal static List<DedicatedAssignment> Assignments(IReadOnlyList<DedicatedAddress> stored, PeerDirectory peers, GatewayScope scope, TunnelIpv6? tunnel6)
    {
        var assignments = new List<DedicatedAssignment>(stored.Count);
        foreach (var dedicated in stored)
        {
            if (!scope.Owns(dedicated) || peers.FindById(dedicated.PeerId) is not { } peer)
                continue;
            var tunnel = dedicated.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 && tunnel6 is not null
                ? tunnel6.Twin(peer.TunnelAddress)
                : peer.TunnelAddress;
            assignments.Add(new DedicatedAssignment(peer.Id, tunnel, dedicated.Address));
        }
        return assignments;
    }
}
