using System.Buffers.Binary;
using System.Net;

namespace Portcullis.Linux.Tests.Support;

/// <summary>Builds and checks IPv4 ICMP echo packets (RFC 791, RFC 792) for the TUN tests.</summary>
internal static class IcmpPackets
{
    public const byte EchoRequest = 8;
    public const byte EchoReply = 0;

    public static byte[] Echo(IPAddress source, IPAddress destination, ushort identifier, ushort sequence, ReadOnlySpan<byte> payload)
    {
        var packet = new byte[20 + 8 + payload.Length];
        packet[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), (ushort)packet.Length);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(4), 0x1234);
        packet[8] = 64;
        packet[9] = 1; // ICMP
        source.TryWriteBytes(packet.AsSpan(12, 4), out _);
        destination.TryWriteBytes(packet.AsSpan(16, 4), out _);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(10), Checksum(packet.AsSpan(0, 20)));

        var icmp = packet.AsSpan(20);
        icmp[0] = EchoRequest;
        BinaryPrimitives.WriteUInt16BigEndian(icmp[4..], identifier);
        BinaryPrimitives.WriteUInt16BigEndian(icmp[6..], sequence);
        payload.CopyTo(icmp[8..]);
        BinaryPrimitives.WriteUInt16BigEndian(icmp[2..], Checksum(icmp));
        return packet;
    }

    /// <summary>True if <paramref name="packet"/> is a valid IPv4 echo reply with this identifier (checksums verified).</summary>
    public static bool IsEchoReply(ReadOnlySpan<byte> packet, ushort identifier)
    {
        if (packet.Length < 28 || packet[0] >> 4 != 4 || packet[9] != 1)
            return false;
        var headerLength = (packet[0] & 0xf) * 4;
        var icmp = packet[headerLength..BinaryPrimitives.ReadUInt16BigEndian(packet[2..])];
        return Checksum(packet[..headerLength]) == 0
            && Checksum(icmp) == 0
            && icmp[0] == EchoReply
            && BinaryPrimitives.ReadUInt16BigEndian(icmp[4..]) == identifier;
    }

    /// <summary>The Internet checksum: one's complement of the one's-complement sum of 16-bit words.</summary>
    public static ushort Checksum(ReadOnlySpan<byte> data)
    {
        uint sum = 0;
        var i = 0;
        for (; i + 1 < data.Length; i += 2)
            sum += BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
        if (i < data.Length)
            sum += (uint)(data[i] << 8);
        while (sum > 0xffff)
            sum = (sum & 0xffff) + (sum >> 16);
        return (ushort)~sum;
    }
}
