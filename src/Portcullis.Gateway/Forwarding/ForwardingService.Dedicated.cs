using System.Net;
using Microsoft.Extensions.Logging;

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
//     only while its peer's session is live at the assigned address: SyncDedicatedLocked follows sessions and policy
//  4. a dedicated address is never a shared one, so the dynamic allocator of shared-address peers never sees it
// Hooks the rest of the service calls, under the lock: SyncDedicatedLocked() after a session starts or ends and after
// the policy changes; PublicAddressFor(peerId) when a session starts.
public sealed partial class ForwardingService
{
    private Dictionary<string, DedicatedAssignment> _dedicated = new(StringComparer.Ordinal);
    private DedicatedRoute[] _dedicatedInKernel = [];
    private HashSet<ushort> _excludedInKernel = [];
    private ITimer? _dedicatedRetry;

    /// <summary>A snapshot of the dedicated-address assignments in force.</summary>
    public IReadOnlyList<DedicatedAssignment> DedicatedAddresses
    {
        get
        {
            lock (_lock)
                return [.. _dedicated.Values];
        }
    }

    /// <summary>
    /// Replaces every dedicated-address assignment with <paramref name="assignments"/> and makes the kernel hold
    /// exactly their routes, replacing whatever it held (after a restart: the previous run's). Call it once at start,
    /// before or after <see cref="Start"/> (with an empty list when no peer has a dedicated address: that clears what
    /// a previous run left), and again after every change. A live peer whose dedicated address changed loses its
    /// dynamic mappings (their flows with them) and is started again on its new address, so its mappings and egress
    /// never straddle two addresses. Throws <see cref="ArgumentException"/> for an invalid set (an address given twice,
    /// a shared public address, not IPv4) and <see cref="ForwardingTableException"/> when the kernel refuses; the
    /// previous assignments stay in force then.
    /// </summary>
    public void SetDedicatedAddresses(IReadOnlyCollection<DedicatedAssignment> assignments)
    {
        var next = CheckAssignments(assignments);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var routes = DesiredRoutesLocked(next, _policy);
            var excluded = DedicatedExcludedPorts(_policy);
            _table.SetDedicated(routes, excluded);
            _dedicatedInKernel = routes;
            _excludedInKernel = excluded;

            _dedicated = next;
            ForwardingLog.DedicatedSet(_logger, next.Count);

            // Sessions carry their public address from their start: restart those whose address moved.
            List<PeerSession>? moved = null;
            foreach (var session in _sessions.All)
            {
                if (!PublicAddressFor(session.PeerId).Equals(session.PublicAddress))
                    (moved ??= []).Add(session);
            }
            if (moved is null)
                return;
            foreach (var session in moved)
            {
                EndSessionLocked(session);
                PeerSessionStarted(session.PeerId, session.TunnelAddress);
            }
            SyncDedicatedLocked();
        }
    }

    /// <summary>Where a peer's mappings appear and its egress leaves: its dedicated address, else the first shared one.</summary>
    private IPAddress PublicAddressFor(string peerId) =>
        _dedicated.TryGetValue(peerId, out var assignment) ? assignment.PublicAddress : _publicAddresses[0];

    /// <summary>
    /// Brings the kernel's dedicated routes in line with sessions and policy (only "every port" forwarding depends on
    /// them). Nothing happens when nothing changed. A refusing kernel is reported and retried every
    /// <see cref="RemovalRetryInterval"/> until it takes the change: a route left behind by an ended session would
    /// point at a tunnel address whose owner is gone (DESIGN §3.1).
    /// </summary>
    private void SyncDedicatedLocked()
    {
        if (_dedicated.Count == 0 && _dedicatedInKernel.Length == 0)
            return;
        var routes = DesiredRoutesLocked(_dedicated, _policy);
        var excluded = DedicatedExcludedPorts(_policy);
        if (routes.AsSpan().SequenceEqual(_dedicatedInKernel) && excluded.SetEquals(_excludedInKernel))
            return;
        try
        {
            _table.SetDedicated(routes, excluded);
            _dedicatedInKernel = routes;
            _excludedInKernel = excluded;
        }
        catch (ForwardingTableException e)
        {
            ReportTableFailure("setting dedicated routes", e);
            // A timer of its own: the service's timer belongs to leases. One-shot, re-armed by the next failure.
            _dedicatedRetry ??= _time.CreateTimer(static state => ((ForwardingService)state!).RetryDedicated(), this,
                Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _dedicatedRetry.Change(RemovalRetryInterval, Timeout.InfiniteTimeSpan);
        }
    }

    private void RetryDedicated()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                _dedicatedRetry?.Dispose();
                return;
            }
            SyncDedicatedLocked();
        }
    }

    private DedicatedRoute[] DesiredRoutesLocked(Dictionary<string, DedicatedAssignment> assignments, ForwardingPolicy policy)
    {
        var routes = new DedicatedRoute[assignments.Count];
        var i = 0;
        foreach (var assignment in assignments.Values)
        {
            var all = policy.Enabled && policy.ForwardAllDedicatedPorts
                && _sessions.TryGetByPeer(assignment.PeerId, out var session)
                && session.TunnelAddress.Equals(assignment.TunnelAddress);
            routes[i++] = new DedicatedRoute(assignment.PublicAddress, assignment.TunnelAddress, all, assignment.PeerId);
        }
        // A stable order, so an unchanged set compares equal to what the kernel was given.
        Array.Sort(routes, static (a, b) => CompareAddressBytes(a.PublicAddress, b.PublicAddress));
        return routes;
    }

    private static HashSet<ushort> DedicatedExcludedPorts(ForwardingPolicy policy)
    {
        var ports = new HashSet<ushort>(policy.BlockedExternalPorts);
        ports.UnionWith(policy.BlockedInternalPorts);
        ports.Remove(0);
        return ports;
    }

    private Dictionary<string, DedicatedAssignment> CheckAssignments(IReadOnlyCollection<DedicatedAssignment> assignments)
    {
        ArgumentNullException.ThrowIfNull(assignments);
        var byPeer = new Dictionary<string, DedicatedAssignment>(StringComparer.Ordinal);
        var publics = new HashSet<IPAddress>();
        var tunnels = new HashSet<IPAddress>();
        foreach (var given in assignments)
        {
            ArgumentNullException.ThrowIfNull(given, nameof(assignments));
            ArgumentException.ThrowIfNullOrEmpty(given.PeerId, nameof(assignments));
            ArgumentNullException.ThrowIfNull(given.PublicAddress, nameof(assignments));
            ArgumentNullException.ThrowIfNull(given.TunnelAddress, nameof(assignments));
            var assignment = given with { PublicAddress = Normalize(given.PublicAddress), TunnelAddress = Normalize(given.TunnelAddress) };
            if (assignment.PublicAddress.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork
                || assignment.TunnelAddress.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)
                throw new ArgumentException("Dedicated and tunnel addresses must be IPv4.", nameof(assignments));
            if (_publicAddresses.Contains(assignment.PublicAddress))
                throw new ArgumentException($"{assignment.PublicAddress} is a shared public address; it cannot be dedicated.", nameof(assignments));
            if (!byPeer.TryAdd(assignment.PeerId, assignment))
                throw new ArgumentException("A peer has two dedicated addresses.", nameof(assignments));
            if (!publics.Add(assignment.PublicAddress))
                throw new ArgumentException($"{assignment.PublicAddress} is dedicated to two peers.", nameof(assignments));
            if (!tunnels.Add(assignment.TunnelAddress))
                throw new ArgumentException("Two peers with dedicated addresses share a tunnel address.", nameof(assignments));
        }
        return byPeer;
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

/// <summary>
/// A peer's own public address (DESIGN §6 <c>dedicated_address</c>): it egresses from it, its mappings appear on it,
/// and no one else's traffic ever uses it.
/// </summary>
/// <param name="PeerId">The peer's opaque id, as given to <see cref="ForwardingService.PeerSessionStarted"/>.</param>
/// <param name="TunnelAddress">The peer's assigned tunnel address (its egress is matched by it).</param>
/// <param name="PublicAddress">The dedicated address: IPv4, assigned to the gateway's public interface, not a shared one.</param>
public sealed record DedicatedAssignment(string PeerId, IPAddress TunnelAddress, IPAddress PublicAddress);
