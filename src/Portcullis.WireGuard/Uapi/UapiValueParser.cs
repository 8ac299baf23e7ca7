using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Portcullis.Core.Io;

namespace Portcullis.WireGuard.Uapi;

/// <summary>
/// Strict parsers for UAPI values, as strict as wireguard-go's (strconv, netip): digits only, dotted-quad
/// IPv4, no zones, no surrounding spaces. Never throw.
/// </summary>
internal static class UapiValueParser
{
    public const int KeyLength = 32;

    public static bool TryParseKey(ReadOnlySpan<char> hex, Span<byte> key32) =>
        hex.Length == KeyLength * 2
        && Convert.FromHexString(hex, key32, out _, out var written) == System.Buffers.OperationStatus.Done
        && written == KeyLength;

    public static bool TryParseUInt16(ReadOnlySpan<char> text, out ushort value) =>
        ushort.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);

    public static bool TryParseUInt32(ReadOnlySpan<char> text, out uint value) =>
        uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);

    /// <summary><c>a.b.c.d:port</c> or <c>[v6]:port</c>.</summary>
    public static bool TryParseEndpoint(ReadOnlySpan<char> text, out UdpEndpoint endpoint)
    {
        endpoint = default;
        ReadOnlySpan<char> host;
        ReadOnlySpan<char> port;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf("]:", StringComparison.Ordinal);
            if (close < 0)
                return false;
            host = text[1..close];
            port = text[(close + 2)..];
            if (!host.Contains(':'))
                return false;
        }
        else
        {
            var colon = text.IndexOf(':');
            if (colon < 0)
                return false;
            host = text[..colon];
            port = text[(colon + 1)..];
        }

        if (!TryParseAddress(host, out var address) || !TryParseUInt16(port, out var portNumber))
            return false;
        endpoint = UdpEndpoint.FromIPEndPoint(new IPEndPoint(address, portNumber));
        return true;
    }

    /// <summary><c>address/length</c>; host bits are masked off, as the kernel and wireguard-go store them.</summary>
    public static bool TryParsePrefix(ReadOnlySpan<char> text, out IPNetwork prefix)
    {
        prefix = default;
        var slash = text.IndexOf('/');
        if (slash < 0 || !TryParseAddress(text[..slash], out var address))
            return false;
        var lengthText = text[(slash + 1)..];
        if (lengthText.Length is 0 or > 3 || !byte.TryParse(lengthText, NumberStyles.None, CultureInfo.InvariantCulture, out var length))
            return false;

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out var size);
        if (length > size * 8)
            return false;
        bytes = bytes[..size];
        for (var bit = (int)length; bit < size * 8; bit++)
            bytes[bit / 8] &= (byte)~(0x80 >> (bit % 8));
        prefix = new IPNetwork(new IPAddress(bytes), length);
        return true;
    }

    /// <summary>IPv4 only as four dotted decimals (IPAddress alone would take "1" or "0x7f.1"); IPv6 without a zone.</summary>
    public static bool TryParseAddress(ReadOnlySpan<char> text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IPAddress? address)
    {
        address = null;
        if (text.IsEmpty || text.Length > 45 || text.Contains('%'))
            return false;
        if (text.Contains(':'))
        {
            return IPAddress.TryParse(text, out address) && address.AddressFamily == AddressFamily.InterNetworkV6;
        }

        var parts = 0;
        var digits = 0;
        foreach (var c in text)
        {
            if (c == '.')
            {
                if (digits == 0)
                    return false;
                parts++;
                digits = 0;
            }
            else if (char.IsAsciiDigit(c) && digits < 3)
            {
                digits++;
            }
            else
            {
                return false;
            }
        }
        return parts == 3 && digits > 0
            && IPAddress.TryParse(text, out address) && address.AddressFamily == AddressFamily.InterNetwork;
    }
}
