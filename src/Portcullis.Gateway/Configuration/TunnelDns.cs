using System.Net;
using Tomlyn.Syntax;

namespace Portcullis.Gateway.Configuration;

/// <summary>
/// <c>[tunnel] dns</c>: the resolvers written as <c>DNS =</c> into every generated client config. A client config
/// without one leaves a stock client on its LAN's resolver, outside the tunnel, so the key cannot be emptied. What a
/// resolver must be for the tunnel to carry its queries is checked here: IPv4 (the tunnel carries IPv4 only), an
/// address clients can reach, and not a private address outside the tunnel prefix — that could be a client's own
/// LAN, which wg-quick routes around the tunnel (its main table wins for every prefix longer than /0).
/// </summary>
internal static class TunnelDns
{
    /// <summary>resolv.conf reads no more than three nameservers (resolv.conf(5), MAXNS).</summary>
    public const int MaxResolvers = 3;

    /// <summary>
    /// Quad9 (9.9.9.9, 149.112.112.112): a non-profit resolver that keeps no client addresses, with DNSSEC validation
    /// and malware-domain blocking. Reached through the tunnel, it sees the gateway's address, never a client's; it
    /// still sees every name looked up. An operator running a resolver sets its address (e.g. the gateway's tunnel
    /// address) instead.
    /// </summary>
    public static IReadOnlyList<IPAddress> Default { get; } = [IPAddress.Parse("9.9.9.9"), IPAddress.Parse("149.112.112.112")];

    /// <summary>The resolvers of <paramref name="section"/>, or <see cref="Default"/> when the key is absent or wrong (reported).</summary>
    public static IReadOnlyList<IPAddress> Parse(TomlSection section, IPNetwork? tunnelPrefix)
    {
        var values = section.Array("dns");
        if (values is null)
            return Default;
        if (values.Count == 0)
        {
            section.Error("dns", "expected at least one resolver: without DNS = a stock client keeps its LAN's resolver, outside the tunnel");
            return Default;
        }
        if (values.Count > MaxResolvers)
            section.Error("dns", $"expected at most {MaxResolvers} resolvers (resolv.conf reads no more)");
        var resolvers = new List<IPAddress>();
        for (var i = 0; i < values.Count; i++)
        {
            var entry = $"entry {i + 1}";
            if (values[i] is not StringValueSyntax { Value: { } text } || !ConfigValues.TryParseIpv4(text, out var address))
                section.Error("dns", $"{entry}: expected an IPv4 address string, e.g. \"9.9.9.9\" (the tunnel carries IPv4 only)");
            else if (!IsReachable(address))
                section.Error("dns", $"{entry}: loopback, link-local, multicast and unspecified addresses are no resolver for clients");
            else if (IsPrivate(address) && tunnelPrefix is { } prefix && !prefix.Contains(address))
                section.Error("dns", $"{entry}: a private address outside the tunnel prefix may be a client's own LAN, reached around the tunnel; use an address in the tunnel prefix (the gateway's) or a public resolver");
            else if (resolvers.Contains(address))
                section.Error("dns", $"{entry} is listed twice");
            else
                resolvers.Add(address);
        }
        return resolvers.Count > 0 ? resolvers : Default;
    }

    private static bool IsReachable(IPAddress address)
    {
        var first = address.GetAddressBytes();
        return !IPAddress.IsLoopback(address) && !address.Equals(IPAddress.Any) && !address.Equals(IPAddress.Broadcast)
            && first[0] is not 0 and < 224 && !(first[0] == 169 && first[1] == 254);
    }

    // RFC 1918 and shared address space (RFC 6598, carrier-grade NAT): what a client's LAN may use.
    private static bool IsPrivate(IPAddress address)
    {
        var b = address.GetAddressBytes();
        return b[0] == 10 || (b[0] == 172 && (b[1] & 0xF0) == 16) || (b[0] == 192 && b[1] == 168) || (b[0] == 100 && (b[1] & 0xC0) == 64);
    }
}
