using System.Net;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Forwarding;

/// <summary>
/// One port forward as the kernel holds it: public address:port → tunnel address:port. A <see cref="PeerEntry"/> (PCP
/// PEER) is the other kind: it holds its public port the same way but forwards nothing inbound.
/// </summary>
/// <param name="Owner">Who justifies the entry (an opaque peer id, never a name or key); stored as the element comment so state can be rebuilt after a restart.</param>
/// <param name="Timeout">Kernel-side expiry (the lease), so entries vanish even if the daemon dies; null = none (static forwards).</param>
public record ForwardingEntry(
    IPAddress PublicAddress,
    MappingProtocol Protocol,
    ushort PublicPort,
    IPAddress TunnelAddress,
    ushort InternalPort,
    string Owner,
    TimeSpan? Timeout)
{
    /// <summary>Longest owner id accepted (nft caps comments at 128 bytes).</summary>
    public const int MaxOwnerLength = 64;

    /// <summary>
    /// The remote peers the entry admits, of the public address's family; empty (the default) admits everyone. The
    /// kernel holds them beside the entry, with the same timeout, written and removed in the same transaction.
    /// </summary>
    public IReadOnlyList<RemoteFilter> Filters { get; init; } = [];

    /// <summary>The map key: at most one entry per (public address, protocol, public port).</summary>
    public (IPAddress, MappingProtocol, ushort) Key => (PublicAddress, Protocol, PublicPort);

    /// <summary>
    /// Owners are opaque ids: letters, digits and <c>. _ : - + / = @</c>, at most <see cref="MaxOwnerLength"/>;
    /// nothing that can end a quoted string in a backend's command.
    /// </summary>
    public static bool IsValidOwner(string? owner)
    {
        if (string.IsNullOrEmpty(owner) || owner.Length > MaxOwnerLength)
            return false;
        foreach (var c in owner)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or ':' or '-' or '+' or '/' or '=' or '@'))
                return false;
        }
        return true;
    }
}

/// <summary>
/// A peer's own public address as the kernel holds it: traffic from <paramref name="TunnelAddress"/> to the internet
/// leaves from <paramref name="PublicAddress"/> (SNAT), and with <paramref name="ForwardAllPorts"/> every TCP and UDP
/// port of <paramref name="PublicAddress"/> that no mapping holds and that is not excluded reaches
/// <paramref name="TunnelAddress"/> on the same port. Mappings on the address live in the mappings map like any other.
/// <paramref name="Owner"/> is the peer's id, for the audit trail; the kernel does not keep it, so a listed route has none.
/// </summary>
public sealed record DedicatedRoute(IPAddress PublicAddress, IPAddress TunnelAddress, bool ForwardAllPorts, string? Owner = null);

/// <summary>The addresses and interfaces the gateway's ruleset is built from.</summary>
public sealed record GatewayNetwork
{
    /// <summary>The WireGuard interface, e.g. "pc0".</summary>
    public required string TunnelInterface { get; init; }

    /// <summary>The clients' prefix, e.g. 10.99.0.0/16 (masqueraded on the way out).</summary>
    public required IPNetwork TunnelPrefix { get; init; }

    /// <summary>The gateway's own tunnel address, e.g. 10.99.0.1 (PCP/NAT-PMP listen here).</summary>
    public required IPAddress GatewayTunnelAddress { get; init; }

    /// <summary>The interface facing the internet.</summary>
    public required string PublicInterface { get; init; }

    /// <summary>Shared public addresses; the first is the default source of masqueraded traffic.</summary>
    public required IReadOnlyList<IPAddress> PublicAddresses { get; init; }

    /// <summary>Peers may reach each other's tunnel addresses. Defaults to false: clients are isolated.</summary>
    public bool AllowPeerToPeer { get; init; }

    /// <summary>
    /// Peers may reach TCP and UDP port 53 on <see cref="GatewayTunnelAddress"/>, for a resolver the operator runs
    /// there. Defaults to false: the tunnel reaches the gateway for NAT-PMP/PCP and ICMP only.
    /// </summary>
    public bool AllowDns { get; init; }

    /// <summary>
    /// Destinations behind the public interface that peers may reach although they are link-local, private or
    /// carrier-grade NAT (the tunnel guard's non-public destinations, dropped by default). IPv4, masked.
    /// </summary>
    public IReadOnlyList<IPNetwork> AllowedDestinations { get; init; } = [];

    /// <summary>Per-forward limits on new inbound connections. Defaults to <see cref="InboundLimits.None"/>.</summary>
    public InboundLimits InboundLimits { get; init; } = InboundLimits.None;

    /// <summary>The tunnel's IPv6 side (a table of its own, built by the kernel backend); null: IPv4 only.</summary>
    public GatewayNetwork6? Ipv6 { get; init; }
}

/// <summary>The IPv6 addresses the gateway's <c>ip6</c> table is built from.</summary>
public sealed record GatewayNetwork6
{
    /// <summary>The peers' IPv6 prefix, e.g. fd99::/64.</summary>
    public required IPNetwork TunnelPrefix { get; init; }

    /// <summary>The gateway's own IPv6 tunnel address, e.g. fd99::1.</summary>
    public required IPAddress GatewayTunnelAddress { get; init; }

    /// <summary>NAT66: the first is the source of peers' IPv6 egress. Empty: a routed prefix, peers egress unchanged.</summary>
    public IReadOnlyList<IPAddress> PublicAddresses { get; init; } = [];

    /// <summary>Non-public IPv6 destinations (ULA, link-local, …) peers may reach anyway. Masked.</summary>
    public IReadOnlyList<IPNetwork> AllowedDestinations { get; init; } = [];
}

/// <summary>
/// The one writer of kernel forwarding state (DESIGN §2): an nftables table of its own — masquerade of the tunnel
/// prefix, a forward chain that admits new inbound connections only when a mapping DNATed them, one map holding
/// every mapping, hairpin — and conntrack cleanup. Every method is one atomic nftables transaction: when it throws,
/// the kernel still holds the previous state. Not thread-safe: the forwarding service calls it from one thread.
/// </summary>
public interface IForwardingTable : IDisposable
{
    /// <summary>
    /// Creates or replaces our table's chains and rules for <paramref name="network"/>, keeping the elements of the
    /// mappings map that are already there (reconciliation decides about them).
    /// </summary>
    void Install(GatewayNetwork network);

    /// <summary>
    /// The mappings and PEER entries (<see cref="PeerEntry"/>) the kernel holds now, with owners from the element comments
    /// and the time left as timeout.
    /// </summary>
    IReadOnlyList<ForwardingEntry> List();

    /// <summary>
    /// In one transaction removes <paramref name="remove"/> and adds <paramref name="add"/> (an entry in both is
    /// refreshed: its timeout restarts). When it returns the map holds the change, so no new flow reaches a removed
    /// mapping's old owner; the established flows of removed mappings are ended right after, off the caller's thread
    /// (within milliseconds), not before the return. Throws <see cref="ForwardingTableException"/> with nft's message
    /// on failure.
    /// </summary>
    void Update(IReadOnlyCollection<ForwardingEntry> remove, IReadOnlyCollection<ForwardingEntry> add);

    /// <summary>
    /// In one transaction replaces every dedicated route with <paramref name="routes"/>, and the ports that "every port"
    /// forwarding skips with <paramref name="excludedPorts"/> (blocked ports). Public and tunnel addresses must each
    /// appear once, and no public address may be a shared one (<see cref="GatewayNetwork.PublicAddresses"/>). After
    /// commit, ends the tracked inbound flows of every "every port" route that went away or changed its target.
    /// Throws <see cref="ForwardingTableException"/> on failure, the previous routes still in force.
    /// </summary>
    void SetDedicated(IReadOnlyCollection<DedicatedRoute> routes, IReadOnlySet<ushort> excludedPorts);

    /// <summary>The dedicated routes the kernel holds now (after a restart: what the previous run left).</summary>
    IReadOnlyList<DedicatedRoute> ListDedicated();

    /// <summary>Removes our table entirely (clean shutdown of a gateway that should leave no trace).</summary>
    void Uninstall();
}

public sealed class ForwardingTableException : Exception
{
    public ForwardingTableException() { }
    public ForwardingTableException(string message) : base(message) { }
    public ForwardingTableException(string message, Exception inner) : base(message, inner) { }
}
