using System.Net;
using Microsoft.Extensions.Logging;
using Portcullis.Core.RateLimiting;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Forwarding;

// The policy layer (DESIGN §2) between the NAT-PMP/PCP front ends and the kernel table. A MAP request:
//  1. gates: forwarding enabled → the source address has a live session → the peer's request rate
//  2. lifetime 0 deletes; an existing (peer, protocol, internal port) is refreshed; both need the mapping's nonce
//  3. quota, then a port: an allowed suggestion, else the peer's remembered port, else random in the range —
//     never blocked, never in use on any public address, never quarantined for another peer
//  4. the kernel table is updated inside the call and state is committed only after it succeeded, so a
//     throwing table leaves state as it was (NetworkFailure) and Success means the mapping is live; requests from
//     different peers that arrive together share one table update (group commit, ForwardingService.Commit.cs)
//  5. the lease joins the expiry queue; one TimeProvider timer removes due leases in one table update
// Session end removes a peer's mappings, and with them their flows (the table flushes conntrack).
// One lock serializes everything, table calls included: the table is not thread-safe.
// The front locks, validates, collects each part's changes, makes one table update (TableWriter) and commits to the
// parts only if the kernel took it. The parts, each guarding its own state: SessionTable (sessions), LeaseBook (leases,
// expiries, pending removals), LeaseExpiry (the timer), PortAllocator (own ports, quarantine, remembered ports,
// randomness; asks the front one question, who holds a key), StaticForwardSet (rules, live entries, their plans),
// MapDecisions (request decisions → MapChange), LeaseCommits (what a taken change does to the parts), DedicatedRoutes
// (dedicated addresses, their kernel routes, the retry). KernelReconciliation and ForwardingReadModel are pure views
// of the parts.

/// <summary>
/// Decides who may have which port and keeps the kernel's mappings equal to that decision. Leases are bound to
/// WireGuard sessions (<see cref="PeerSessionStarted"/>, <see cref="PeerSessionEnded"/>), and so are static forwards
/// (<see cref="SetStaticForwards"/>: in the kernel while their peer is connected); the kernel is written
/// only through <see cref="IForwardingTable"/>. Thread-safe.
/// </summary>
/// <remarks>
/// Dynamic state lives in memory only and starts empty: <see cref="Start"/> reconciles the kernel to "no dynamic
/// mappings", so <see cref="EpochSeconds"/> restarting from zero with each start tells clients the truth — their
/// mappings are gone and must be requested again. Static forwards and dedicated addresses are the host's to give
/// (from the store); before any session exists none of them is live, so reconciliation at start empties the map.
/// </remarks>
public sealed partial class ForwardingService : IPortMappingAuthority, IDisposable
{
    /// <summary>The kernel holds each element this much longer than its lease (<see cref="MapDecisions.KernelExpirySlack"/>).</summary>
    internal static readonly TimeSpan KernelExpirySlack = MapDecisions.KernelExpirySlack;

    private readonly Lock _lock = new();
    private readonly IForwardingTable _table;
    private readonly IReadOnlyList<IPAddress> _publicAddresses;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly PortAllocator _ports;
    private readonly long _origin;
    private readonly LeaseExpiry _expiry;
    private readonly GroupCommitter<FrontRequest, MapResult> _committer;
    private readonly MapDecisions _decisions;
    private readonly TableWriter _writer;
    private readonly LeaseCommits _commits;

    private readonly SessionTable _sessions = new();
    private readonly LeaseBook _leases = new();


    private ForwardingPolicy _policy;
    private TimeSpan _epochStart;
    private bool _started;
    private bool _disposed;

    /// <param name="table">The kernel backend; installed by the host before <see cref="Start"/>.</param>
    /// <param name="publicAddresses">Shared public addresses; mappings appear on the first.</param>
    /// <param name="random">Port choice for tests; null (production) draws from <see cref="System.Security.Cryptography.RandomNumberGenerator"/>.</param>
    public ForwardingService(
        IForwardingTable table,
        IReadOnlyList<IPAddress> publicAddresses,
        ForwardingPolicy policy,
        TimeProvider timeProvider,
        ILogger<ForwardingService> logger,
        Random? random = null)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(publicAddresses);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);
        if (publicAddresses.Count == 0)
            throw new ArgumentException("At least one public address is needed.", nameof(publicAddresses));
        policy.Validate();

        _table = table;
        _publicAddresses = [.. publicAddresses.Select(Normalize)];
        _policy = policy;
        _time = timeProvider;
        _logger = logger;
        _ports = new PortAllocator(_publicAddresses, OwnerOfLocked, random, logger);
        _origin = timeProvider.GetTimestamp();
        _expiry = new LeaseExpiry(timeProvider, OnTimer);
        _committer = NewCommitter();
        _commits = new LeaseCommits(_leases, _ports, _expiry, () => _policy, () => Now, logger);
        _decisions = new MapDecisions(_ports, _reserved, _commits, logger);
        _writer = new TableWriter(table, logger, () => _policy.AuditLog);
    }

    /// <summary>
    /// IPv6 inbound: requests from a peer's IPv6 tunnel address map for that peer (its session's IPv6 facet). Null (the
    /// default): requests from IPv6 addresses find no session. Set before <see cref="Start"/>.
    /// </summary>
    public ForwardingIpv6? Ipv6 { get; init; }

    /// <summary>Seconds since <see cref="Start"/> (0 before it): the state began empty then.</summary>
    public uint EpochSeconds
    {
        get
        {
            lock (_lock)
                return _started ? (uint)Math.Min(uint.MaxValue, (Now - _epochStart).Ticks / TimeSpan.TicksPerSecond) : 0;
        }
    }

    /// <summary>
    /// Reconciles the kernel with the (empty) state: every element nobody owns now is removed, before any session
    /// can exist, so no stale element points at a tunnel address that may be reassigned (DESIGN §3.1). Then the
    /// epoch starts. Throws <see cref="ForwardingTableException"/> when the kernel cannot be made safe: the
    /// gateway must not serve then.
    /// </summary>
    public void Start()
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_started)
                throw new InvalidOperationException("The forwarding service is already started.");
            ReconcileLocked();
            _epochStart = Now;
            _started = true;
        }
    }

    /// <summary>
    /// Makes the kernel hold exactly what the state justifies: removes unowned or mismatched elements, re-adds
    /// missing ones. <see cref="Start"/> does this once; a host may repeat it (e.g. after an operator touched
    /// the table). Throws <see cref="ForwardingTableException"/> and leaves the kernel as it was on failure.
    /// </summary>
    public void Reconcile()
    {
        lock (_lock)
        {
            ThrowIfNotRunning();
            ReconcileLocked();
        }
    }

    /// <summary>
    /// A peer's session is live at <paramref name="tunnelAddress"/>; from now on requests from that address are
    /// this peer's. <paramref name="peerId"/> is an opaque id from the host (e.g. "p3"), never a key or a name: it
    /// becomes the kernel element's comment. Repeating the call is harmless. A peer seen at a new address, or an
    /// address taken over by another peer, first loses the mappings that pointed at the old pairing.
    /// </summary>
    public void PeerSessionStarted(string peerId, IPAddress tunnelAddress)
    {
        ArgumentException.ThrowIfNullOrEmpty(peerId);
        ArgumentNullException.ThrowIfNull(tunnelAddress);
        var address = Normalize(tunnelAddress);
        lock (_lock)
        {
            ThrowIfNotRunning();
            if (_sessions.TryGetByPeer(peerId, out var current))
            {
                if (current.TunnelAddress.Equals(address))
                    return;
                EndSessionLocked(current);
            }
            if (_sessions.TryGetByAddress(address, out var previousHolder))
                EndSessionLocked(previousHolder);

            var session = new PeerSession(peerId, address, PublicAddressFor(peerId), NewRequestBucket(_policy));
            if (Ipv6 is { } v6 && v6.Tunnel.Ipv4Prefix.Contains(address))
            {
                var twin = v6.Tunnel.Twin(address);
                session.AddIpv6(twin, PublicAddress6For(peerId, v6, twin), v6.Routed);
            }
            _sessions.Add(session);
            ActivateStaticLocked(session);
            SyncDedicatedLocked();
            _logger.Counts(_sessions.Count, _leases.Count);
        }
    }

    /// <summary>
    /// The peer's session ended: its mappings and live static forwards are removed (their flows with them) and the
    /// mappings' ports remembered for <see cref="ForwardingPolicy.ReconnectGrace"/>. Unknown peers are ignored.
    /// </summary>
    public void PeerSessionEnded(string peerId)
    {
        ArgumentNullException.ThrowIfNull(peerId);
        lock (_lock)
        {
            if (_disposed || !_sessions.TryGetByPeer(peerId, out var session))
                return;
            EndSessionLocked(session);
            SyncDedicatedLocked();
            _logger.Counts(_sessions.Count, _leases.Count);
        }
    }

    /// <summary>Stops the expiry timer. The kernel is left to the host: Uninstall, or the next start's reconciliation.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
                return;
            _disposed = true;
        }
        _expiry.Dispose();
    }

    /// <summary>Monotonic time since construction; every lease and memory is measured on it.</summary>
    private TimeSpan Now => _time.GetElapsedTime(_origin);

    private void EndSessionLocked(PeerSession session)
    {
        _sessions.Remove(session);
        DeactivateStaticLocked(session.PeerId);
        if (session.Mappings.Count > 0)
            ReleaseBestEffortLocked([.. session.Mappings], ReleaseReason.SessionEnded);
    }

    private TokenBucket NewRequestBucket(ForwardingPolicy policy) => new(policy.RequestsPerSecond, policy.Burst, Now);

    private void ReconcileLocked()
    {
        var (remove, add) = KernelReconciliation.Plan(_table.List(), _statics, _leases);
        if (remove.Count > 0 || add.Count > 0)
            _writer.Update(remove, add);
        // The kernel now holds exactly the desired set: nothing deferred is left to remove.
        _leases.ClearPending();
        _logger.Reconciled(remove.Count, add.Count);
    }

    private void ThrowIfNotRunning()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_started)
            throw new InvalidOperationException("Start the forwarding service first: the kernel is not reconciled yet.");
    }

    // Front ends may hand over IPv4 as IPv4-mapped IPv6 (a dual-stack socket); state keys are plain IPv4.
    private static IPAddress Normalize(IPAddress address) =>
        address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
