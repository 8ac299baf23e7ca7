using System.Net;
using System.Net.Sockets;
using Portcullis.Gateway.Forwarding;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Kernel;

/// <summary>
/// Checks everything that goes into an nft command before it is formatted, so nothing from outside can change a
/// command's meaning: addresses must be IPv4 (a mapping's may be IPv6, both of them), interface names and owners come from strict character sets.
/// </summary>
internal static class ForwardingValidation
{
    /// <summary>Longest owner id accepted (nft caps comments at 128 bytes).</summary>
    public const int MaxOwnerLength = ForwardingEntry.MaxOwnerLength;

    /// <summary>The kernel's lease timer is in milliseconds; a year is far beyond any lease we give.</summary>
    public static readonly TimeSpan MaxTimeout = TimeSpan.FromDays(365);

    /// <summary>The owner contract of <see cref="ForwardingEntry.IsValidOwner"/>, checked again before formatting.</summary>
    public static bool IsValidOwner(string? owner) => ForwardingEntry.IsValidOwner(owner);

    /// <summary>Linux interface names: 1–15 characters (IFNAMSIZ), here letters, digits and <c>. _ -</c>.</summary>
    public static bool IsValidInterfaceName(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 15 || name is "." or "..")
            return false;
        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
                return false;
        }
        return true;
    }

    public static void Check(GatewayNetwork network)
    {
        ArgumentNullException.ThrowIfNull(network);
        if (!IsValidInterfaceName(network.TunnelInterface))
            throw new ArgumentException($"tunnel interface name '{network.TunnelInterface}' is not valid", nameof(network));
        if (!IsValidInterfaceName(network.PublicInterface))
            throw new ArgumentException($"public interface name '{network.PublicInterface}' is not valid", nameof(network));
        if (network.TunnelInterface == network.PublicInterface)
            throw new ArgumentException("the tunnel and public interfaces must differ", nameof(network));
        ArgumentNullException.ThrowIfNull(network.InboundLimits);
        network.InboundLimits.Validate();
        if (network.TunnelPrefix.BaseAddress.AddressFamily != AddressFamily.InterNetwork)
            throw new ArgumentException("the tunnel prefix must be IPv4", nameof(network));
        CheckIPv4(network.GatewayTunnelAddress, "gateway tunnel address");
        if (!network.TunnelPrefix.Contains(network.GatewayTunnelAddress))
            throw new ArgumentException("the gateway tunnel address must lie in the tunnel prefix", nameof(network));
        if (network.PublicAddresses is null || network.PublicAddresses.Count == 0)
            throw new ArgumentException("at least one public address is needed", nameof(network));
        foreach (var address in network.PublicAddresses)
            CheckIPv4(address, "public address");
        ArgumentNullException.ThrowIfNull(network.AllowedDestinations, nameof(network));
        foreach (var prefix in network.AllowedDestinations)
            CheckIPv4(prefix.BaseAddress, "allowed destination");
    }

    /// <summary>
    /// What an added entry must satisfy: a valid key and target, a valid owner, a sane timeout, and remote-peer filters
    /// its family's table can hold (prefixes of the mapping's family): a filter the kernel did not get would leave the
    /// mapping open to everyone.
    /// </summary>
    public static void Check(ForwardingEntry entry)
    {
        CheckKeyAndTarget(entry);
        ArgumentNullException.ThrowIfNull(entry.Filters, nameof(entry));
        foreach (var filter in entry.Filters)
        {
            if (entry.PublicAddress.AddressFamily == AddressFamily.InterNetworkV6)
                CheckIPv6(filter.Prefix.BaseAddress, "remote filter prefix of an IPv6 mapping");
            else
                CheckIPv4(filter.Prefix.BaseAddress, "remote filter prefix");
        }
        if (!IsValidOwner(entry.Owner))
            throw new ArgumentException(
                $"owner must be 1–{MaxOwnerLength} characters of letters, digits and . _ : - + / = @", nameof(entry));
        if (entry.Timeout is { } timeout && (timeout < TimeSpan.FromMilliseconds(1) || timeout > MaxTimeout))
            throw new ArgumentException($"timeout must lie between 1 ms and {MaxTimeout.TotalDays} days", nameof(entry));
    }

    /// <summary>
    /// What a removed entry must satisfy. Owner and timeout are not written on removal, so entries as
    /// <see cref="IForwardingTable.List"/> returns them (an empty owner, a zero timeout) can be passed back.
    /// </summary>
    public static void CheckKeyAndTarget(ForwardingEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        // IPv4 → IPv4 (table ip) or IPv6 → IPv6 (table ip6): there is no NAT between the families.
        if (entry.PublicAddress?.AddressFamily == AddressFamily.InterNetworkV6)
        {
            CheckIPv6(entry.PublicAddress, "public address");
            CheckIPv6(entry.TunnelAddress, "tunnel address of an IPv6 mapping");
        }
        else
        {
            CheckIPv4(entry.PublicAddress, "public address");
            CheckIPv4(entry.TunnelAddress, "tunnel address of an IPv4 mapping");
        }
        if (entry.Protocol is not (MappingProtocol.Tcp or MappingProtocol.Udp))
            throw new ArgumentException($"protocol {(byte)entry.Protocol} is neither TCP nor UDP", nameof(entry));
        if (entry.PublicPort == 0 || entry.InternalPort == 0)
            throw new ArgumentException("ports must not be zero", nameof(entry));
        // A PEER entry (outbound SNAT of one flow) goes to its family's peers map: a remote of the same family.
        if (entry is PeerEntry peer)
        {
            ArgumentNullException.ThrowIfNull(peer.Remote, nameof(entry));
            if (peer.Remote.AddressFamily != entry.TunnelAddress?.AddressFamily)
                throw new ArgumentException("the remote of a PEER mapping must be of its tunnel address's family", nameof(entry));
            if (peer.Remote.Port == 0)
                throw new ArgumentException("the remote port of a PEER mapping must not be zero", nameof(entry));
            if (peer.Filters.Count > 0)
                throw new ArgumentException("a PEER mapping has no remote filters", nameof(entry));
        }
    }

    /// <summary>
    /// Dedicated routes: IPv4 addresses, or IPv6 ones (both of a route one family; IPv6 only with NAT66), each public and each tunnel address once, no public address that is shared
    /// (nor the gateway's tunnel address), tunnel addresses inside the tunnel prefix; excluded ports not zero.
    /// <paramref name="network"/> is null when the table was not installed by this instance: the checks against it are
    /// skipped then.
    /// </summary>
    public static void Check(IReadOnlyCollection<DedicatedRoute> routes, IReadOnlySet<ushort> excludedPorts, GatewayNetwork? network)
    {
        ArgumentNullException.ThrowIfNull(routes);
        ArgumentNullException.ThrowIfNull(excludedPorts);
        var publics = new HashSet<IPAddress>();
        var tunnels = new HashSet<IPAddress>();
        foreach (var route in routes)
        {
            ArgumentNullException.ThrowIfNull(route, nameof(routes));
            if (route.PublicAddress is { AddressFamily: AddressFamily.InterNetworkV6 })
            {
                CheckIPv6(route.PublicAddress, "dedicated public address");
                CheckIPv6(route.TunnelAddress, "dedicated route's tunnel address");
            }
            else
            {
                CheckIPv4(route.PublicAddress, "dedicated public address");
                CheckIPv4(route.TunnelAddress, "dedicated route's tunnel address");
            }
            if (!publics.Add(route.PublicAddress))
                throw new ArgumentException($"dedicated address {route.PublicAddress} is given twice", nameof(routes));
            if (!tunnels.Add(route.TunnelAddress))
                throw new ArgumentException($"tunnel address {route.TunnelAddress} has two dedicated addresses", nameof(routes));
            if (network is null)
                continue;
            if (route.PublicAddress.AddressFamily == AddressFamily.InterNetworkV6)
            {
                CheckIpv6Route(route, network.Ipv6);
                continue;
            }
            foreach (var shared in network.PublicAddresses)
            {
                if (shared.Equals(route.PublicAddress))
                    throw new ArgumentException($"{route.PublicAddress} is a shared public address, it cannot be dedicated", nameof(routes));
            }
            if (!network.TunnelPrefix.Contains(route.TunnelAddress) || network.GatewayTunnelAddress.Equals(route.TunnelAddress))
                throw new ArgumentException($"{route.TunnelAddress} is not a client address of the tunnel prefix", nameof(routes));
        }
        if (excludedPorts.Contains(0))
            throw new ArgumentException("excluded ports must not be zero", nameof(excludedPorts));
    }

    // An IPv6 dedicated route needs the NAT66 table: with a routed prefix (no public IPv6 addresses) a peer has its own /128.
    private static void CheckIpv6Route(DedicatedRoute route, GatewayNetwork6? v6)
    {
        if (v6 is null || v6.PublicAddresses.Count == 0)
            throw new ArgumentException($"dedicated address {route.PublicAddress} is IPv6, which needs NAT66 in the tunnel", nameof(route));
        if (v6.PublicAddresses.Contains(route.PublicAddress))
            throw new ArgumentException($"{route.PublicAddress} is a shared public address, it cannot be dedicated", nameof(route));
        if (!v6.TunnelPrefix.Contains(route.TunnelAddress) || v6.GatewayTunnelAddress.Equals(route.TunnelAddress))
            throw new ArgumentException($"{route.TunnelAddress} is not a client address of the IPv6 tunnel prefix", nameof(route));
    }

    // Plain IPv6: an IPv4-mapped address belongs in table ip, and a zone means nothing to nft.
    private static void CheckIPv6(IPAddress? address, string what)
    {
        if (address is null || address.AddressFamily != AddressFamily.InterNetworkV6 || address.IsIPv4MappedToIPv6 || address.ScopeId != 0)
            throw new ArgumentException($"the {what} must be an IPv6 address without a zone");
    }

    private static void CheckIPv4(IPAddress? address, string what)
    {
        if (address is null || address.AddressFamily != AddressFamily.InterNetwork)
            throw new ArgumentException($"the {what} must be an IPv4 address");
    }
}
