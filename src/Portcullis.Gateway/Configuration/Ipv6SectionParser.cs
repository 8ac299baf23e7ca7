using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Tomlyn.Syntax;

namespace Portcullis.Gateway.Configuration;

/// <summary>
/// The IPv6 keys: <c>[tunnel] address6</c> (NAT66) or <c>routed_prefix6</c> (no NAT), and <c>[nat] public_addresses6</c>.
/// Left out, the tunnel carries IPv4 only, as before.
/// </summary>
internal static class Ipv6SectionParser
{
    private const string Address6 = "address6";
    private const string RoutedPrefix6 = "routed_prefix6";
    private const string PublicAddresses6 = "public_addresses6";

    /// <summary>
    /// The tunnel's IPv6 side, or null when neither key is set or one is wrong (reported). <paramref name="ipv4Prefix"/>
    /// and <paramref name="gateway"/> are the [tunnel] address's, null when that was missing or wrong.
    /// </summary>
    public static TunnelIpv6? ParseTunnel(TomlSection section, IPNetwork? ipv4Prefix, IPAddress? gateway)
    {
        var address6 = section.String(Address6);
        var routed6 = section.String(RoutedPrefix6);
        if (address6 is not null && routed6 is not null)
        {
            section.Error(RoutedPrefix6, "give either address6 (NAT66) or routed_prefix6 (routed, no NAT), not both");
            return null;
        }
        if (address6 is null && routed6 is null)
            return null;

        var key = address6 is not null ? Address6 : RoutedPrefix6;
        if (!TryParse(address6 ?? routed6!, out var address, out var prefix) || prefix.PrefixLength is < 16 or > 120
            || !TunnelIpv6.IsUnicast(address))
        {
            section.Error(key, address6 is not null
                ? "expected the gateway's IPv6 tunnel address with its prefix length, e.g. \"fd99::1/64\""
                : "expected a global IPv6 prefix routed to this gateway, e.g. \"2001:db8:99::/64\"");
            return null;
        }
        if (routed6 is not null && !address.Equals(prefix.BaseAddress))
        {
            section.Error(key, $"expected a prefix without host bits, e.g. \"{prefix}\" (the gateway takes its tunnel address's twin in it)");
            return null;
        }
        if (ipv4Prefix is not { } v4 || gateway is null)
            return null;
        if (!TunnelIpv6.FitsHostNumbers(prefix, v4))
        {
            section.Error(key, $"/{prefix.PrefixLength} is too long: every host number of {v4} needs a twin in it (at most /{96 + v4.PrefixLength})");
            return null;
        }
        var ipv6 = new TunnelIpv6(prefix, v4, Routed: routed6 is not null);
        if (address6 is not null && !address.Equals(ipv6.Twin(gateway)))
        {
            // A free choice could collide with a peer's address: peers' addresses are their IPv4 addresses' twins.
            section.Error(key, $"the gateway's IPv6 address must be its address's twin, {ipv6.Twin(gateway)}/{prefix.PrefixLength} (peers' IPv6 addresses mirror their IPv4 ones)");
            return null;
        }
        return ipv6;
    }

    /// <summary>The line [tunnel]'s IPv6 key is on, for errors about it that span sections.</summary>
    public static int LineOf(TomlSection section) =>
        section.LineOf(section.Has(Address6) ? Address6 : RoutedPrefix6);

    /// <summary><c>[nat] public_addresses6</c>: global unicast IPv6 addresses, each once; empty when absent.</summary>
    public static List<IPAddress> ParsePublicAddresses(TomlSection section)
    {
        var addresses = new List<IPAddress>();
        var values = section.Array(PublicAddresses6);
        if (values is null)
            return addresses;
        if (values.Count == 0)
            section.Error(PublicAddresses6, "expected at least one address (or leave the key out)");
        foreach (var value in values)
        {
            if (value is not StringValueSyntax { Value: { } text } || !ConfigValues.TryParseUnicastIpv6(text, out var address))
            {
                section.Error(PublicAddresses6, "expected an array of IPv6 unicast address strings, e.g. [\"2001:db8:1::10\"]");
                break;
            }
            if (addresses.Contains(address))
                section.Error(PublicAddresses6, $"{address} is listed twice");
            addresses.Add(address);
        }
        return addresses;
    }

    /// <summary>Whether [nat] has <c>public_addresses6</c> (for the cross-section check).</summary>
    public static bool HasPublicAddresses(TomlSection section) => section.Has(PublicAddresses6);

    private static bool TryParse(string text, out IPAddress address, out IPNetwork prefix)
    {
        address = IPAddress.IPv6None;
        prefix = default;
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0 || text.Contains('%', StringComparison.Ordinal) || !IPAddress.TryParse(text[..slash], out var parsed)
            || parsed.AddressFamily != AddressFamily.InterNetworkV6)
            return false;
        var lengthText = text[(slash + 1)..];
        if (lengthText.Length is 0 or > 3 || !lengthText.All(char.IsAsciiDigit))
            return false;
        var length = int.Parse(lengthText, CultureInfo.InvariantCulture);
        if (length > 128)
            return false;
        address = parsed;
        prefix = Core.Net.IpPrefix.Masked(parsed, length);
        return true;
    }
}
