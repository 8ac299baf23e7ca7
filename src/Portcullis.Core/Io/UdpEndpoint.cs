using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Portcullis.Core.Io;

/// <summary>
/// An IPv4 or IPv6 UDP endpoint as a value, so the packet path can carry and compare source addresses
/// without allocating an <see cref="IPEndPoint"/> per datagram. IPv4 is stored as an IPv4-mapped IPv6
/// address; <see cref="IsIPv4"/> tells which.
/// </summary>
public readonly record struct UdpEndpoint(UInt128 Address, ushort Port)
{
    private static readonly UInt128 MappedPrefix = (UInt128)0xFFFF << 32;

    public bool IsIPv4 => (Address >> 32) == 0xFFFF;

    public bool IsEmpty => Address == UInt128.Zero && Port == 0;

    public static UdpEndpoint FromIPv4(ReadOnlySpan<byte> address4, ushort port) =>
        new(MappedPrefix | BinaryPrimitives.ReadUInt32BigEndian(address4), port);

    public static UdpEndpoint FromIPv6(ReadOnlySpan<byte> address16, ushort port)
    {
        var value = BinaryPrimitives.ReadUInt128BigEndian(address16);
        return new UdpEndpoint(value, port);
    }

    public static UdpEndpoint FromIPEndPoint(IPEndPoint endPoint)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        Span<byte> bytes = stackalloc byte[16];
        var address = endPoint.Address;
        if (address.IsIPv4MappedToIPv6)
            address = address.MapToIPv4();
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            address.TryWriteBytes(bytes, out _);
            return FromIPv4(bytes[..4], (ushort)endPoint.Port);
        }
        address.TryWriteBytes(bytes, out _);
        return FromIPv6(bytes, (ushort)endPoint.Port);
    }

    /// <summary>Writes the address bytes (4 for IPv4, 16 for IPv6) and returns how many were written.</summary>
    public int WriteAddress(Span<byte> destination)
    {
        if (IsIPv4)
        {
            BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)Address);
            return 4;
        }
        BinaryPrimitives.WriteUInt128BigEndian(destination, Address);
        return 16;
    }

    public IPEndPoint ToIPEndPoint()
    {
        Span<byte> bytes = stackalloc byte[16];
        var n = WriteAddress(bytes);
        return new IPEndPoint(new IPAddress(bytes[..n]), Port);
    }

    public override string ToString() => ToIPEndPoint().ToString();
}
