using System.Net;
using System.Net.Sockets;

namespace Portcullis.Gateway.Configuration;

/// <summary>
/// The tunnel's IPv6 side (<c>[tunnel] address6</c> or <c>routed_prefix6</c>). A peer's IPv6 address is its IPv4
/// address's twin: the same host number in <see cref="Prefix"/> as in the IPv4 prefix (10.99.1.2 in 10.99.0.0/16 is
/// fd99::102 in fd99::/64). So it needs no allocation and no store column: it is fleet-wide exactly as the IPv4
/// address is, every peer already stored has one the moment IPv6 is configured, and in routed mode — where each
/// gateway routes a prefix of its own — a peer's host number stays the same on every gateway.
/// </summary>
/// <param name="Prefix">The peers' IPv6 prefix (ULA with NAT66, or a global prefix routed to this gateway).</param>
/// <param name="Ipv4Prefix">The IPv4 tunnel prefix the host numbers come from.</param>
/// <param name="Routed">True: no NAT66, peers egress from their own address (<c>routed_prefix6</c>).</param>
public sealed record TunnelIpv6(IPNetwork Prefix, IPNetwork Ipv4Prefix, bool Routed)
{
    /// <summary>The twin of <paramref name="ipv4"/>, an address of <see cref="Ipv4Prefix"/>.</summary>
    public IPAddress Twin(IPAddress ipv4)
    {
        ArgumentNullException.ThrowIfNull(ipv4);
        if (ipv4.AddressFamily != AddressFamily.InterNetwork || !Ipv4Prefix.Contains(ipv4))
            throw new ArgumentException($"{ipv4} is not in the tunnel prefix {Ipv4Prefix}", nameof(ipv4));
        var host = ConfigValues.ToUInt32(ipv4) - ConfigValues.ToUInt32(Ipv4Prefix.BaseAddress);
        Span<byte> bytes = stackalloc byte[16];
        Prefix.BaseAddress.TryWriteBytes(bytes, out _);
        // Fits: FitsHostNumbers holds, so the prefix's low 32 bits that carry the host number are zero.
        bytes[12] |= (byte)(host >> 24);
        bytes[13] |= (byte)(host >> 16);
        bytes[14] |= (byte)(host >> 8);
        bytes[15] |= (byte)host;
        return new IPAddress(bytes);
    }

    /// <summary>Whether every host number of <paramref name="ipv4Prefix"/> has a twin in <paramref name="prefix"/>.</summary>
    public static bool FitsHostNumbers(IPNetwork prefix, IPNetwork ipv4Prefix) =>
        128 - prefix.PrefixLength >= 32 - ipv4Prefix.PrefixLength;

    /// <summary>Usable as a tunnel address: unicast, not link-local, loopback, unspecified or IPv4-mapped.</summary>
    public static bool IsUnicast(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetworkV6 && !address.IsIPv6LinkLocal && !address.IsIPv6Multicast
        && !address.IsIPv4MappedToIPv6 && !address.IsIPv6SiteLocal
        && !address.Equals(IPAddress.IPv6Loopback) && !address.Equals(IPAddress.IPv6None);
}
