using System.Net;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Forwarding;

/// <summary>
/// The operator's side of the forwarding service (<see cref="ForwardingService"/>), as the admin API, a fleet's sync,
/// metrics and the reachability check use it; the NAT-PMP and PCP front ends see <see cref="IPortMappingAuthority"/>,
/// the host the service itself. Every change is all or nothing: when the kernel refuses it, it throws
/// <see cref="ForwardingTableException"/> and nothing changed. Thread-safe.
/// </summary>
public interface IForwardingAdmin
{
    /// <summary>
    /// IPv6 inbound: requests from a peer's IPv6 tunnel address map for that peer (its session's IPv6 facet). Null:
    /// requests from IPv6 addresses find no session.
    /// </summary>
    ForwardingIpv6? Ipv6 { get; }

    /// <summary>Seconds since the service started (0 before it): its dynamic state began empty then.</summary>
    uint EpochSeconds { get; }

    /// <summary>The policy in force.</summary>
    ForwardingPolicy Policy { get; }

    /// <summary>A snapshot of every live dynamic mapping.</summary>
    IReadOnlyList<ActiveMapping> Mappings { get; }

    /// <summary>Every static forward the service knows, with whether it is in the kernel now.</summary>
    IReadOnlyList<StaticForwardState> StaticForwards { get; }

    /// <summary>How many static forwards are in the kernel now.</summary>
    int LiveStaticForwardCount { get; }

    /// <summary>A snapshot of the dedicated-address assignments in force (IPv4 and IPv6).</summary>
    IReadOnlyList<DedicatedAssignment> DedicatedAddresses { get; }

    /// <summary>The dynamic range's use now, for metrics: one walk over the mappings per scrape.</summary>
    PortPoolUsage PoolUsage { get; }

    /// <summary>
    /// How many mappings since start got a different public port than the peer's mapping of the other protocol for
    /// the same internal port, because another owner held that port for this protocol.
    /// </summary>
    long SplitPairs { get; }

    /// <summary>
    /// Replaces the whole set of static forwards (the host calls it with the store's at start, also before the service
    /// started). Rules of connected peers go live at once, removed ones leave the kernel. Throws
    /// <see cref="ArgumentException"/> for an invalid rule or a key given twice; nothing changed then.
    /// </summary>
    void SetStaticForwards(IReadOnlyCollection<StaticForwardRule> rules);

    /// <summary>
    /// Makes <paramref name="rules"/> the whole set of <paramref name="peerId"/>'s static forwards (a fleet changes one
    /// peer at a time, and may hold 100 000 rules): its other rules go (from the kernel too when live), new ones come
    /// in, live at once when it is connected; a key another peer's rule held passes to this peer. Throws as
    /// <see cref="SetStaticForwards"/>.
    /// </summary>
    void ReplaceStaticForwardsOf(string peerId, IReadOnlyCollection<StaticForwardRule> rules);

    /// <summary>
    /// Adds a static forward, or replaces the one with the same key; live at once when its peer is connected. A
    /// dynamic mapping holding the port is revoked. Throws as <see cref="SetStaticForwards"/>.
    /// </summary>
    void AddStaticForward(StaticForwardRule rule);

    /// <summary>Removes a static forward (from the kernel too, with its flows, when live). False when there is none.</summary>
    bool RemoveStaticForward(IPAddress publicAddress, MappingProtocol protocol, ushort externalPort);

    /// <summary>Removes every static forward of one peer (a removed peer); returns how many.</summary>
    int RemoveStaticForwardsOf(string peerId);

    /// <summary>
    /// Replaces every dedicated-address assignment and makes the kernel hold exactly their routes, replacing whatever it
    /// held (after a restart: the previous run's). Called once at start (with an empty list when no peer has one: that
    /// clears what a previous run left), and again after every change. A peer has at most one IPv4 assignment (with its
    /// IPv4 tunnel address) and one IPv6 assignment (with its IPv6 tunnel address; NAT66 only). A live peer whose
    /// dedicated address changed loses its dynamic mappings (their flows with them) and starts again on its new
    /// address, so its mappings and egress never straddle two addresses. Throws <see cref="ArgumentException"/> for an
    /// invalid set (an address given twice, a shared public address, IPv6 without NAT66); the previous assignments stay
    /// in force then.
    /// </summary>
    void SetDedicatedAddresses(IReadOnlyCollection<DedicatedAssignment> assignments);

    /// <summary>Removes the mapping on this public address, protocol and port; false if there is none.</summary>
    bool Revoke(IPAddress publicAddress, MappingProtocol protocol, ushort publicPort);

    /// <summary>Removes every dynamic mapping of one peer (its session stays); returns how many.</summary>
    int RevokePeer(string peerId);

    /// <summary>
    /// Puts <paramref name="policy"/> in force for every request from now on, and removes the mappings it no longer
    /// allows: all of them when forwarding is disabled, those outside the range or on a now-blocked port otherwise.
    /// Mappings over a lowered quota or lifetime stay until they lapse. Throws <see cref="ArgumentException"/> for an
    /// invalid policy; the old policy stays in force then.
    /// </summary>
    void UpdatePolicy(ForwardingPolicy policy);

    /// <summary>
    /// The peer's session ended (or the operator ended it: a disabled or removed peer): its mappings and live static
    /// forwards are removed, their flows with them, and the mappings' ports remembered for
    /// <see cref="ForwardingPolicy.ReconnectGrace"/>. Unknown peers are ignored.
    /// </summary>
    void PeerSessionEnded(string peerId);
}
