using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Portcullis.Core.Io;

namespace Portcullis.Linux.Udp;

/// <summary>
/// struct sockaddr_in6 encoded and decoded in place (family host order, port and address network order).
/// The dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d, which is exactly how UdpEndpoint stores them.
/// </summary>
internal static class SockAddrIn6
{
    public const int Size = 28;
    public const ushort AfInet = 2;
    public const ushort AfInet6 = 10;

    public static void Write(Span<byte> destination, UdpEndpoint endpoint)
    {
        destination[..Size].Clear();
        var family = AfInet6;
        MemoryMarshal.Write(destination, in family);
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], endpoint.Port);
        BinaryPrimitives.WriteUInt128BigEndian(destination[8..], endpoint.Address);
    }

    /// <summary>Decodes a sockaddr_in6 (or a sockaddr_in); false for any other family.</summary>
    public static bool TryRead(ReadOnlySpan<byte> source, out UdpEndpoint endpoint)
    {
        var family = MemoryMarshal.Read<ushort>(source);
        var port = BinaryPrimitives.ReadUInt16BigEndian(source[2..]);
        switch (family)
        {
            case AfInet6:
                endpoint = UdpEndpoint.FromIPv6(source.Slice(8, 16), port);
                return true;
            case AfInet:
                endpoint = UdpEndpoint.FromIPv4(source.Slice(4, 4), port);
                return true;
            default:
                endpoint = default;
                return false;
        }
    }
}
