using System.Net;
using System.Net.Sockets;
using Portcullis.Core.Net;

namespace Portcullis.Gateway.Forwarding;

// Dedicated public addresses: a peer that owns one egresses from it, gets its mappings there, and with
// ForwardingPolicy.ForwardAllDedicatedPorts is reached on every port of it.
//  1. the host hands over every assignment (SetDedicatedAddresses) at start — that call is also the
//     reconciliation of the kernel's dedicated routes — and again after every change
//  2. egress (tunnel address → dedicated address SNAT) is in the kernel for every assignment, live or not: the
//     tunnel address is the peer's by assignment and cryptokey routing lets nobody else send from it, and a route
//     added only when the session event arrives would let the first packets of a session leave from the shared
//     address, pinned there by conntrack
//  3. "every port" forwarding points at a tunnel address, so like any mapping (DESIGN §3.1) it is in the kernel
//     only while its peer's session is live at the assigned address: Sync follows sessions and policy
//  4. a dedicated address is never a shared one, so the dynamic allocator of shared-address peers never sees it
//  5. IPv6 (NAT66 only): a peer may own a dedicated IPv6 address as well or instead; its IPv6 facet's egress leaves
//     from it (SNAT66 from its tunnel IPv6 address), its IPv6 mappings appear on it, and "every port" DNAT66 of it
//     follows the facet's session as in 3. With a routed prefix a peer already has a global /128: refused.

/// <summary>
/// The dedicated-address part of the forwarding service: who owns which dedicated address (IPv4 and, in NAT66 mode,
/// IPv6), which routes the kernel holds for them, which ports "every port" forwarding leaves alone, and the retry of a
/// refused kernel update.
/// <para>Contract. Not thread-safe: the caller serializes every call (the service's lock; the retry callback takes it).
/// A peer has at most one assignment per family; a public address belongs to one peer; a tunnel address has one
/// dedicated address. <see cref="Replace"/> and <see cref="Sync"/> write the kernel through
/// <see cref="TableWriter.SetDedicated"/> and change state only after it succeeded — <see cref="Replace"/> throws
/// then, <see cref="Sync"/> reports and retries every <see cref="LeaseExpiry.RemovalRetryInterval"/> until the
/// kernel takes it. Egress routes are in the kernel for every assignment; an "every port" route only while the
/// owner's session (its IPv6 facet for an IPv6 assignment) is live at the assigned tunnel address and the policy
/// asks for it.</para>
/// </summary>
internal sealed class DedicatedRoutes : IDisposable
{
    private readonly TableWriter _writer;
    private readonly IReadOnlyList<IPAddress> _shared;
    private readonly ForwardingIpv6? _ipv6;
    private readonly TimeProvider _time;
    private readonly Action _retry;
    private Dictionary<(string PeerId, AddressFamily Family), DedicatedAssignment> _assignments = [];
    private DedicatedRoute[] _inKernel = [];
    private HashSet<ushort> _excludedInKernel = [];
    private ITimer? _retryTimer;

    /// <param name="shared">The shared public addresses (IPv4); none of them may be dedicated.</param>
    /// <param name="ipv6">The tunnel's IPv6 side; IPv6 assignments need it in NAT66 mode.</param>
    /// <param name="retry">Called by the retry timer after a refused <see cref="Sync"/>: take the lock, call <see cref="Sync"/>.</param>
    public DedicatedRoutes(TableWriter writer, IReadOnlyList<IPAddress> shared, ForwardingIpv6? ipv6, TimeProvider time, Action retry)
    {
        _writer = writer;
        _shared = shared;
        _ipv6 = ipv6;
        _time = time;
        _retry = retry;
    }

    public int Count => _assignments.Count;

    public IReadOnlyList<DedicatedAssignment> Assignments => [.. _assignments.Values];

    /// <summary>The dedicated address of <paramref name="family"/> a peer owns, or null.</summary>
    public IPAddress? AddressFor(string peerId, AddressFamily family) =>
        _assignments.TryGetValue((peerId, family), out var assignment) ? assignment.PublicAddress : null;

    /// <summary>Where a peer's IPv4 mappings appear and its egress leaves: its dedicated address, else the first shared one.</summary>
    public IPAddress PublicAddressFor(string peerId) => AddressFor(peerId, AddressFamily.InterNetwork) ?? _shared[0];

    /// <summary>Where a peer's IPv6 facet's mappings appear: routed, its own /128; NAT66, its dedicated IPv6 address, else the shared one.</summary>
    public IPAddress PublicAddress6For(string peerId, ForwardingIpv6 ipv6, IPAddress tunnelAddress6) =>
        ipv6.PublicAddress is null ? tunnelAddress6 : AddressFor(peerId, AddressFamily.InterNetworkV6) ?? ipv6.PublicAddress;

    /// <summary>
    /// The sessions whose public address (of either family) is no longer the one their assignments give: sessions
    /// carry their public addresses from their start, so these must start again. Null when none.
    /// </summary>
    public List<PeerSession>? Moved(SessionTable sessions)
    {
        List<PeerSession>? moved = null;
        foreach (var session in sessions.All)
        {
            if (!PublicAddressFor(session.PeerId).Equals(session.PublicAddress)
                || (_ipv6 is { } v6 && session.Ipv6 is { } facet
                    && !PublicAddress6For(session.PeerId, v6, facet.TunnelAddress).Equals(facet.PublicAddress)))
                (moved ??= []).Add(session);
        }
        return moved;
    }

    /// <summary>
    /// Checks a whole set of assignments (normalized: IPv4-mapped addresses become IPv4). Throws
    /// <see cref="ArgumentException"/> with the reason: a family mix within one assignment, a shared address, an
    /// address given twice, a peer with two of one family, two peers on one tunnel address, IPv6 without NAT66.
    /// </summary>
    public Dictionary<(string PeerId, AddressFamily Family), DedicatedAssignment> Check(IReadOnlyCollection<DedicatedAssignment> assignments)
    {
        ArgumentNullException.ThrowIfNull(assignments);
        var byPeer = new Dictionary<(string, AddressFamily), DedicatedAssignment>();
        var publics = new HashSet<IPAddress>();
        var tunnels = new HashSet<IPAddress>();
        foreach (var given in assignments)
        {
            ArgumentNullException.ThrowIfNull(given, nameof(assignments));
            ArgumentException.ThrowIfNullOrEmpty(given.PeerId, nameof(assignments));
            ArgumentNullException.ThrowIfNull(given.PublicAddress, nameof(assignments));
            ArgumentNullException.ThrowIfNull(given.TunnelAddress, nameof(assignments));
            var assignment = given with { PublicAddress = given.PublicAddress.Unmapped(), TunnelAddress = given.TunnelAddress.Unmapped() };
            var family = assignment.PublicAddress.AddressFamily;
            if (family == AddressFamily.InterNetworkV6)
                CheckIpv6(assignment);
            else if (family != AddressFamily.InterNetwork || assignment.TunnelAddress.AddressFamily != AddressFamily.InterNetwork)
                throw new ArgumentException("An IPv4 dedicated address goes with the peer's IPv4 tunnel address.", nameof(assignments));
            if (_shared.Contains(assignment.PublicAddress) || (_ipv6?.PublicAddress?.Equals(assignment.PublicAddress) ?? false))
                throw new ArgumentException($"{assignment.PublicAddress} is a shared public address; it cannot be dedicated.", nameof(assignments));
            if (!byPeer.TryAdd((assignment.PeerId, family), assignment))
                throw new ArgumentException($"A peer has two dedicated {(family == AddressFamily.InterNetwork ? "IPv4" : "IPv6")} addresses.", nameof(assignments));
            if (!publics.Add(assignment.PublicAddress))
                throw new ArgumentException($"{assignment.PublicAddress} is dedicated to two peers.", nameof(assignments));
            if (!tunnels.Add(assignment.TunnelAddress))
                throw new ArgumentException("Two peers with dedicated addresses share a tunnel address.", nameof(assignments));
        }
        return byPeer;
    }

    /// <summary>Writes the routes of <paramref name="next"/> (from <see cref="Check"/>) and then takes it; throws <see cref="ForwardingTableException"/> with nothing changed.</summary>
    public void Replace(Dictionary<(string PeerId, AddressFamily Family), DedicatedAssignment> next, ForwardingPolicy policy, SessionTable sessions)
    {
        var routes = DesiredRoutes(next, policy, sessions);
        var excluded = ExcludedPorts(policy);
        _writer.SetDedicated(routes, excluded);
        _inKernel = routes;
        _excludedInKernel = excluded;
        _assignments = next;
    }

    /// <summary>
    /// Brings the kernel in line with sessions and policy (only "every port" routes depend on them); nothing happens
    /// when nothing changed. A refusal is reported and retried by the timer until the kernel takes it: a route left
    /// behind by an ended session would point at a tunnel address whose owner is gone (DESIGN §3.1).
    /// </summary>
    public void Sync(ForwardingPolicy policy, SessionTable sessions)
    {
        if (_assignments.Count == 0 && _inKernel.Length == 0)
            return;
        var routes = DesiredRoutes(_assignments, policy, sessions);
        var excluded = ExcludedPorts(policy);
        if (routes.AsSpan().SequenceEqual(_inKernel) && excluded.SetEquals(_excludedInKernel))
            return;
        try
        {
            _writer.SetDedicated(routes, excluded);
            _inKernel = routes;
            _excludedInKernel = excluded;
        }
        catch (ForwardingTableException e)
        {
            _writer.ReportFailure("setting dedicated routes", e);
            // A timer of its own: the service's timer belongs to leases. One-shot, re-armed by the next failure.
            _retryTimer ??= _time.CreateTimer(static state => ((DedicatedRoutes)state!)._retry(), this,
                Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _retryTimer.Change(LeaseExpiry.RemovalRetryInterval, Timeout.InfiniteTimeSpan);
        }
    }

    public void Dispose() => _retryTimer?.Dispose();

    private void CheckIpv6(DedicatedAssignment assignment)
    {
        if (_ipv6 is null)
            throw new ArgumentException(
                $"{assignment.PublicAddress}: an IPv6 dedicated address needs IPv6 in the tunnel with NAT66 ([tunnel] address6 with [nat] public_addresses6).",
                nameof(assignment));
        if (_ipv6.Routed)
            throw new ArgumentException(
                $"{assignment.PublicAddress}: with a routed IPv6 prefix every peer already has a global /128 of its own; IPv6 dedicated addresses need NAT66.",
                nameof(assignment));
        if (assignment.TunnelAddress.AddressFamily != AddressFamily.InterNetworkV6)
            throw new ArgumentException("An IPv6 dedicated address goes with the peer's IPv6 tunnel address.", nameof(assignment));
        if (!_ipv6.Tunnel.Prefix.Contains(assignment.TunnelAddress))
            throw new ArgumentException($"{assignment.TunnelAddress} is not in the tunnel's IPv6 prefix.", nameof(assignment));
        if (!Configuration.TunnelIpv6.IsUnicast(assignment.PublicAddress) || assignment.PublicAddress.ScopeId != 0)
            throw new ArgumentException($"{assignment.PublicAddress} is not a global unicast IPv6 address.", nameof(assignment));
    }

    private static DedicatedRoute[] DesiredRoutes(Dictionary<(string, AddressFamily), DedicatedAssignment> assignments, ForwardingPolicy policy, SessionTable sessions)
    {
        var routes = new DedicatedRoute[assignments.Count];
        var i = 0;
        foreach (var assignment in assignments.Values)
        {
            var all = policy.Enabled && policy.ForwardAllDedicatedPorts
                && sessions.TryGetByPeer(assignment.PeerId, out var session)
                && (assignment.TunnelAddress.AddressFamily == AddressFamily.InterNetwork ? session : session.Ipv6) is { } facet
                && facet.TunnelAddress.Equals(assignment.TunnelAddress);
            routes[i++] = new DedicatedRoute(assignment.PublicAddress, assignment.TunnelAddress, all, assignment.PeerId);
        }
        // A stable order, so an unchanged set compares equal to what the kernel was given.
        Array.Sort(routes, static (a, b) => CompareAddressBytes(a.PublicAddress, b.PublicAddress));
        return routes;
    }

    private static HashSet<ushort> ExcludedPorts(ForwardingPolicy policy)
    {
        var ports = new HashSet<ushort>(policy.BlockedExternalPorts);
        ports.UnionWith(policy.BlockedInternalPorts);
        ports.Remove(0);
        return ports;
    }

    private static int CompareAddressBytes(IPAddress a, IPAddress b)
    {
        Span<byte> x = stackalloc byte[16];
        Span<byte> y = stackalloc byte[16];
        a.TryWriteBytes(x, out var xl);
        b.TryWriteBytes(y, out var yl);
        return x[..xl].SequenceCompareTo(y[..yl]);
    }
}
