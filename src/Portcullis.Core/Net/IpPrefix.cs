using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Portcullis.Core.Net;

/// <summary>
/// Builds <see cref="IPNetwork"/> values from an address that may carry host bits, as WireGuard
/// configurations do (<c>AllowedIPs = 10.0.0.1/24</c> means 10.0.0.0/24). <see cref="IPNetwork"/>'s own
/// constructor and parser refuse such input.
/// </summary>
public static class IpPrefix
{
    /// <summary>The prefix of <paramref name="address"/> with its host bits cleared.</summary>
    public static IPNetwork Masked(IPAddress address, int prefixLength)
    {
        ArgumentNullException.ThrowIfNull(address);
        var maxBits = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        ArgumentOutOfRangeException.ThrowIfNegative(prefixLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefixLength, maxBits);

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out var length);
        bytes = bytes[..length];
        for (var i = 0; i < length; i++)
        {
            var keep = Math.Clamp(prefixLength - (i * 8), 0, 8);
            bytes[i] &= (byte)(0xFF00 >> keep);
        }
        return new IPNetwork(new IPAddress(bytes), prefixLength);
    }

    /// <summary>
    /// Parses <c>ADDRESS/LENGTH</c> or a bare address (a host prefix), clearing host bits.
    /// False for anything else, including a scoped IPv6 address.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<char> text, out IPNetwork prefix)
    {
        prefix = default;
        var slash = text.IndexOf('/');
        var addressText = slash < 0 ? text : text[..slash];
        // A zone (fe80::1%eth0) names a link, which a routing prefix cannot carry.
        if (addressText.Contains('%') || !IPAddress.TryParse(addressText, out var address))
            return false;
        var maxBits = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        var length = maxBits;
        if (slash >= 0)
        {
            var lengthText = text[(slash + 1)..];
            if (lengthText.IsEmpty || lengthText.Length > 3 || !IsDigits(lengthText)
                || !int.TryParse(lengthText, NumberStyles.None, CultureInfo.InvariantCulture, out length)
                || length > maxBits)
                return false;
        }
        prefix = Masked(address, length);
        return true;
    }

    private static bool IsDigits(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (c is < '0' or > '9')
                return false;
        }
        return true;
    }
}
