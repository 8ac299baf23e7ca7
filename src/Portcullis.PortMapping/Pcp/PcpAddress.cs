using System.Net;
using System.Net.Sockets;

namespace Portcullis.PortMapping.Pcp;

/// <summary>PCP's 16-byte address fields: IPv6 as is, IPv4 as IPv4-mapped IPv6 (::ffff:a.b.c.d), RFC 6887 §5.</summary>
public static class PcpAddress
{
    public const int Size = 16;

    /// <summary>Reads a field; an IPv4-mapped address comes back as IPv4.</summary>
    public static IPAddress Read(ReadOnlySpan<byte> field)
    {
        var address = new IPAddress(field[..Size]);
        return address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
    }

    /// <summary>Writes a field; null writes the all-zeros IPv4 address (::ffff:0.0.0.0).</summary>
    public static void Write(Span<byte> field, IPAddress? address)
    {
        field = field[..Size];
        field.Clear();
        if (address is null || address.AddressFamily == AddressFamily.InterNetwork)
        {
            field[10] = 0xff;
            field[11] = 0xff;
            address?.TryWriteBytes(field[12..], out _);
            return;
        }
        address.TryWriteBytes(field, out _);
    }

    /// <summary>True for :: and ::ffff:0.0.0.0, the two ways a client says "no suggestion".</summary>
    public static bool IsUnspecified(ReadOnlySpan<byte> field)
    {
        field = field[..Size];
        if (field.IndexOfAnyExcept((byte)0) < 0)
            return true;
        return field[..10].IndexOfAnyExcept((byte)0) < 0 && field[10] == 0xff && field[11] == 0xff
            && field[12..].IndexOfAnyExcept((byte)0) < 0;
    }

    /// <summary>True when the field holds <paramref name="address"/> (an IPv4 address compared in its mapped form).</summary>
    public static bool Holds(ReadOnlySpan<byte> field, IPAddress address)
    {
        Span<byte> expected = stackalloc byte[Size];
        Write(expected, address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address);
        return field[..Size].SequenceEqual(expected);
    }
}
