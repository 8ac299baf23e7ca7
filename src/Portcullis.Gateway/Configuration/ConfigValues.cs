using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Portcullis.Gateway.Forwarding;

namespace Portcullis.Gateway.Configuration;

/// <summary>Parsers for the value formats of the file; each returns false rather than throwing.</summary>
internal static class ConfigValues
{
    /// <summary>A WireGuard key as <c>wg genkey</c>/<c>wg pubkey</c> print it: base64 of exactly 32 bytes.</summary>
    public static bool TryParseKey(string text, out byte[] key)
    {
        key = [];
        var buffer = new byte[33];
        if (text.Length != 44 || !Convert.TryFromBase64String(text, buffer, out var written) || written != 32)
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(buffer);
            return false;
        }
        key = buffer[..32];
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(buffer);
        return true;
    }

    /// <summary>"LOW-HIGH" (or a single port) with 1 ≤ LOW ≤ HIGH ≤ 65535.</summary>
    public static bool TryParsePortRange(string text, out PortRange range)
    {
        range = default;
        var dash = text.IndexOf('-', StringComparison.Ordinal);
        var lowText = dash < 0 ? text : text[..dash];
        var highText = dash < 0 ? text : text[(dash + 1)..];
        if (!TryParsePort(lowText, out var low) || !TryParsePort(highText, out var high) || low > high)
            return false;
        range = new PortRange(low, high);
        return true;
    }

    private static bool TryParsePort(string text, out ushort port)
    {
        port = 0;
        return text.Length is > 0 and <= 5 && text.All(char.IsAsciiDigit)
            && ushort.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port > 0;
    }

    /// <summary>A Linux interface name: 1-15 characters, none of '/', ':', whitespace (as dev_valid_name).</summary>
    public static bool IsInterfaceName(string text) =>
        text.Length is > 0 and <= 15 && text is not "." and not ".."
        && text.All(c => c > ' ' && c < 0x7f && c != '/' && c != ':');

    /// <summary>A dotted-quad IPv4 address (no IPv6, no shortened forms such as "10.1").</summary>
    public static bool TryParseIpv4(string text, out IPAddress address)
    {
        address = IPAddress.None;
        if (text.Count(c => c == '.') != 3 || !IPAddress.TryParse(text, out var parsed)
            || parsed.AddressFamily != AddressFamily.InterNetwork)
            return false;
        address = parsed;
        return true;
    }

    /// <summary>A unicast IPv6 address as <see cref="TunnelIpv6.IsUnicast"/> says (not IPv4-mapped), without a zone ("%eth0").</summary>
    public static bool TryParseUnicastIpv6(string text, out IPAddress address)
    {
        address = IPAddress.IPv6None;
        if (!text.Contains(':', StringComparison.Ordinal) || text.Contains('%', StringComparison.Ordinal)
            || !IPAddress.TryParse(text, out var parsed) || !TunnelIpv6.IsUnicast(parsed))
            return false;
        address = parsed;
        return true;
    }

    /// <summary>"A.B.C.D/LEN": the address and the prefix it sits in (host bits cleared).</summary>
    public static bool TryParseInterfaceAddress(string text, out IPAddress address, out IPNetwork prefix)
    {
        address = IPAddress.None;
        prefix = default;
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0 || !TryParseIpv4(text[..slash], out address))
            return false;
        var lengthText = text[(slash + 1)..];
        if (lengthText.Length is 0 or > 2 || !lengthText.All(char.IsAsciiDigit))
            return false;
        var length = int.Parse(lengthText, CultureInfo.InvariantCulture);
        if (length > 32)
            return false;
        prefix = Core.Net.IpPrefix.Masked(address, length);
        return true;
    }

    /// <summary>"A.B.C.D/LEN" without host bits, or a bare address (a /32).</summary>
    public static bool TryParseIpv4Prefix(string text, out IPNetwork prefix)
    {
        prefix = default;
        if (!text.Contains('/', StringComparison.Ordinal))
        {
            if (!TryParseIpv4(text, out var single))
                return false;
            prefix = new IPNetwork(single, 32);
            return true;
        }
        return TryParseInterfaceAddress(text, out var address, out prefix) && address.Equals(prefix.BaseAddress);
    }

    /// <summary>"ADDRESS/LEN" of IPv6 without host bits, or a bare IPv6 address (a /128); no zone.</summary>
    public static bool TryParseIpv6Prefix(string text, out IPNetwork prefix)
    {
        prefix = default;
        if (!text.Contains(':', StringComparison.Ordinal) || !Core.Net.IpPrefix.TryParse(text, out var parsed)
            || parsed.BaseAddress.AddressFamily != AddressFamily.InterNetworkV6)
            return false;
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (!IPAddress.Parse(slash < 0 ? text : text[..slash]).Equals(parsed.BaseAddress))
            return false;
        prefix = parsed;
        return true;
    }

    /// <summary>The last address of an IPv4 prefix (its broadcast address).</summary>
    public static IPAddress Broadcast(IPNetwork prefix)
    {
        var value = ToUInt32(prefix.BaseAddress) | (prefix.PrefixLength == 0 ? uint.MaxValue : uint.MaxValue >> prefix.PrefixLength);
        return FromUInt32(value);
    }

    public static uint ToUInt32(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[4];
        address.TryWriteBytes(bytes, out _);
        return (uint)(bytes[0] << 24 | bytes[1] << 16 | bytes[2] << 8 | bytes[3]);
    }

    public static IPAddress FromUInt32(uint value) =>
        new([(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value]);

    /// <summary>A host address of the prefix: inside it, neither its network nor its broadcast address.</summary>
    public static bool IsHostOf(IPNetwork prefix, IPAddress address) =>
        prefix.Contains(address) && !address.Equals(prefix.BaseAddress) && !address.Equals(Broadcast(prefix));
}
