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
//  5. IPv6 (NAT66 only): a peer may own a dedicated IPv6 address as well or instead; its IPv6 facet's egress leaves
//     from it (SNAT66 from its tunnel IPv6 address), its IPv6 mappings appear on it, and "every port" DNAT66 of it
//     follows the facet's session as in 3. With a routed prefix a peer already has a global /128: refused.
// The state and the kernel writes are DedicatedRoutes'; this is the front's thin side of it. Hooks the rest of the
// service calls, under the lock: SyncDedicatedLocked() after a session starts or ends and after the policy changes;
// PublicAddressFor(peerId) and PublicAddress6For(peerId, ipv6) when a session starts.
public sealed partial class ForwardingService
{
    private DedicatedRoutes? _dedicatedRoutes;

    // Built on first use: Ipv6 is an init property, set after the constructor.
    private DedicatedRoutes Dedicated => _dedicatedRoutes ??= new DedicatedRoutes(_table, _publicAddresses, Ipv6, _time, RetryDedicated);

    /// <summary>A snapshot of the dedicated-address assignments in force (IPv4 and IPv6).</summary>
    public IReadOnlyList<DedicatedAssignment> DedicatedAddresses
    {
        get
        {
            lock (_lock)
                return Dedicated.Assignments;
        }
    }

    /// <summary>
    /// Replaces every dedicated-address assignment with <paramref name="assignments"/> and makes the kernel hold
    /// exactly their routes, replacing whatever it held (after a restart: the previous run's). Call it once at start,
    /// before or after <see cref="Start"/> (with an empty list when no peer has a dedicated address: that clears what
    /// a previous run left), and again after every change. A peer has at most one IPv4 assignment (with its IPv4
    /// tunnel address) and one IPv6 assignment (with its IPv6 tunnel address; NAT66 only). A live peer whose dedicated
    /// address changed loses its dynamic mappings (their flows with them) and is started again on its new address, so
    /// its mappings and egress never straddle two addresses. Throws <see cref="ArgumentException"/> for an invalid set
    /// (an address given twice, a shared public address, IPv6 without NAT66) and <see cref="ForwardingTableException"/>
    /// when the kernel refuses; the previous assignments stay in force then.
    /// </summary>
    public void SetDedicatedAddresses(IReadOnlyCollection<DedicatedAssignment> assignments)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var next = Dedicated.Check(assignments);
            Dedicated.Replace(next, _policy, _sessions);
            ForwardingLog.DedicatedSet(_logger, next.Count);

            // Sessions carry their public addresses from their start: restart those whose address moved.
            List<PeerSession>? moved = null;
            foreach (var session in _sessions.All)
            {
                if (!PublicAddressFor(session.PeerId).Equals(session.PublicAddress)
                    || (Ipv6 is { } v6 && session.Ipv6 is { } facet && !PublicAddress6For(session.PeerId, v6, facet.TunnelAddress).Equals(facet.PublicAddress)))
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

    /// <summary>Where a peer's IPv4 mappings appear and its egress leaves: its dedicated address, else the first shared one.</summary>
    private IPAddress PublicAddressFor(string peerId) =>
        Dedicated.AddressFor(peerId, System.Net.Sockets.AddressFamily.InterNetwork) ?? _publicAddresses[0];

    /// <summary>Where a peer's IPv6 facet's mappings appear: routed, its own /128; NAT66, its dedicated IPv6 address, else the shared one.</summary>
    private IPAddress PublicAddress6For(string peerId, ForwardingIpv6 ipv6, IPAddress tunnelAddress6) =>
        ipv6.PublicAddress is null
            ? tunnelAddress6
            : Dedicated.AddressFor(peerId, System.Net.Sockets.AddressFamily.InterNetworkV6) ?? ipv6.PublicAddress;

    /// <summary>
    /// Brings the kernel's dedicated routes in line with sessions and policy. A refusing kernel is reported and retried
    /// every <see cref="RemovalRetryInterval"/> until it takes the change: a route left behind by an ended session would
    /// point at a tunnel address whose owner is gone (DESIGN §3.1).
    /// </summary>
    private void SyncDedicatedLocked()
    {
        if (!Dedicated.Sync(_policy, _sessions, out var failure))
            _writer.ReportFailure("setting dedicated routes", failure!);
    }

    private void RetryDedicated()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                _dedicatedRoutes?.Dispose();
                return;
            }
            SyncDedicatedLocked();
        }
    }
}

/// <summary>
/// A peer's own public address (DESIGN §6 <c>dedicated_address</c>): it egresses from it, its mappings appear on it,
/// and no one else's traffic ever uses it.
/// </summary>
/// <param name="PeerId">The peer's opaque id, as given to <see cref="ForwardingService.PeerSessionStarted"/>.</param>
/// <param name="TunnelAddress">The peer's assigned tunnel address of the public address's family (its egress is matched by it).</param>
/// <param name="PublicAddress">The dedicated address: IPv4, or IPv6 in NAT66 mode; routed to the gateway's public interface, not a shared one.</param>
public sealed record DedicatedAssignment(string PeerId, IPAddress TunnelAddress, IPAddress PublicAddress);
