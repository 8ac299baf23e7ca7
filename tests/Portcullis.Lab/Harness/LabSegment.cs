namespace Portcullis.Lab.Harness;

/// <summary>
/// One bridge inside the router namespace, with the router at .1 (IPv4) and ::1 (IPv6). Addresses are the
/// documentation ranges of DESIGN.md §5; a host's IPv6 address reuses its IPv4 host number.
/// </summary>
public sealed record LabSegment(string Name, string Bridge, string Ipv4Prefix, string Ipv6Prefix)
{
    /// <summary>Where gateways live: 198.51.100.0/24, 2001:db8:1::/64.</summary>
    public static LabSegment Gateway { get; } = new("gateway", "br-gw", "198.51.100", "2001:db8:1");

    /// <summary>Clients' home LAN: 203.0.113.0/24, 2001:db8:2::/64.</summary>
    public static LabSegment Home { get; } = new("home", "br-home", "203.0.113", "2001:db8:2");

    /// <summary>Remote hosts, "the internet": 192.0.2.0/24, 2001:db8:3::/64.</summary>
    public static LabSegment Remote { get; } = new("remote", "br-remote", "192.0.2", "2001:db8:3");

    public static IReadOnlyList<LabSegment> All { get; } = [Gateway, Home, Remote];

    public string RouterAddress => Ipv4(1);

    public string RouterAddress6 => Ipv6(1);

    public string Ipv4(int host) => $"{Ipv4Prefix}.{host}";

    public string Ipv6(int host) => $"{Ipv6Prefix}::{host:x}";

    /// <summary>The host number of an address on this segment, or an exception naming the mismatch.</summary>
    public int HostNumber(string ipv4Address)
    {
        var prefix = Ipv4Prefix + ".";
        if (!ipv4Address.StartsWith(prefix, StringComparison.Ordinal)
            || !int.TryParse(ipv4Address.AsSpan(prefix.Length), out var host) || host is < 2 or > 254)
            throw new ArgumentException($"{ipv4Address} is not a host address on {Name} ({Ipv4Prefix}.0/24, .1 is the router)", nameof(ipv4Address));
        return host;
    }
}
