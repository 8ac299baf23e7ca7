using System.Buffers.Binary;
using System.Net;
using Portcullis.Linux.Tests.Support;

namespace Portcullis.Linux.Tests.Tun.Offload;

/// <summary>
/// Hand-built TCP and UDP packets over IPv4 and IPv6 with their checksums computed here, by the plain 16-bit
/// loop of <see cref="IcmpPackets.Checksum"/>, independent of the code under test.
/// </summary>
internal static class TestPackets
{
    public const byte Fin = 0x01;
    public const byte Psh = 0x08;
    public const byte Ack = 0x10;
    public const byte Ece = 0x40;
    public const byte Cwr = 0x80;

    public static readonly IPAddress Source4 = IPAddress.Parse("10.99.0.2");
    public static readonly IPAddress Destination4 = IPAddress.Parse("10.99.0.1");
    public static readonly IPAddress Source6 = IPAddress.Parse("fd99::2");
    public static readonly IPAddress Destination6 = IPAddress.Parse("fd99::1");

    /// <summary>Twelve bytes of options: NOP, NOP, timestamps.</summary>
    public static readonly byte[] Timestamps = [1, 1, 8, 10, 0, 0, 0x12, 0x34, 0, 0, 0x56, 0x78];

    /// <summary>A payload whose bytes say where they are, so misplaced or lost bytes show.</summary>
    public static byte[] Payload(int length, int seed = 0) =>
        Enumerable.Range(0, length).Select(i => (byte)((i * 7) + seed + (i >> 8))).ToArray();

    public static byte[] TcpPacket(bool v6, uint sequence, byte flags, ReadOnlySpan<byte> payload, ReadOnlySpan<byte> options = default,
        ushort id = 0x4000, ushort sourcePort = 40000, ushort destinationPort = 5201, uint ack = 777, ushort window = 501)
    {
        var tcpLength = 20 + options.Length;
        var packet = IpHeader(v6, 6, tcpLength + payload.Length, id);
        var tcp = packet.AsSpan(v6 ? 40 : 20);
        BinaryPrimitives.WriteUInt16BigEndian(tcp, sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[2..], destinationPort);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[4..], sequence);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[8..], ack);
        tcp[12] = (byte)((tcpLength / 4) << 4);
        tcp[13] = flags;
        BinaryPrimitives.WriteUInt16BigEndian(tcp[14..], window);
        options.CopyTo(tcp[20..]);
        payload.CopyTo(tcp[tcpLength..]);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[16..], TransportChecksum(packet));
        return packet;
    }

    public static byte[] UdpPacket(bool v6, ReadOnlySpan<byte> payload, ushort id = 0x4000)
    {
        var packet = IpHeader(v6, 17, 8 + payload.Length, id);
        var udp = packet.AsSpan(v6 ? 40 : 20);
        BinaryPrimitives.WriteUInt16BigEndian(udp, 40001);
        BinaryPrimitives.WriteUInt16BigEndian(udp[2..], 5201);
        BinaryPrimitives.WriteUInt16BigEndian(udp[4..], (ushort)(8 + payload.Length));
        payload.CopyTo(udp[8..]);
        BinaryPrimitives.WriteUInt16BigEndian(udp[6..], TransportChecksum(packet));
        return packet;
    }

    private static byte[] IpHeader(bool v6, byte protocol, int transportLength, ushort id)
    {
        if (v6)
        {
            var packet = new byte[40 + transportLength];
            packet[0] = 0x60;
            BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(4), (ushort)transportLength);
            packet[6] = protocol;
            packet[7] = 64;
            Source6.TryWriteBytes(packet.AsSpan(8, 16), out _);
            Destination6.TryWriteBytes(packet.AsSpan(24, 16), out _);
            return packet;
        }
        var v4 = new byte[20 + transportLength];
        v4[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(v4.AsSpan(2), (ushort)v4.Length);
        BinaryPrimitives.WriteUInt16BigEndian(v4.AsSpan(4), id);
        v4[6] = 0x40; // DF
        v4[8] = 64;
        v4[9] = protocol;
        Source4.TryWriteBytes(v4.AsSpan(12, 4), out _);
        Destination4.TryWriteBytes(v4.AsSpan(16, 4), out _);
        BinaryPrimitives.WriteUInt16BigEndian(v4.AsSpan(10), IcmpPackets.Checksum(v4.AsSpan(0, 20)));
        return v4;
    }

    public static int IpHeaderLength(ReadOnlySpan<byte> packet) => packet[0] >> 4 == 6 ? 40 : (packet[0] & 0x0f) * 4;

    /// <summary>The TCP or UDP checksum the packet should carry (its own field counted as zero).</summary>
    public static ushort TransportChecksum(ReadOnlySpan<byte> packet)
    {
        var copy = packet.ToArray();
        var ip = IpHeaderLength(copy);
        var protocol = copy[0] >> 4 == 6 ? copy[6] : copy[9];
        var at = ip + (protocol == 6 ? 16 : 6);
        copy[at] = copy[at + 1] = 0;
        var result = IcmpPackets.Checksum([.. PseudoHeader(copy, protocol, copy.Length - ip), .. copy.AsSpan(ip)]);
        return protocol == 17 && result == 0 ? (ushort)0xffff : result;
    }

    /// <summary>True when the IPv4 header checksum (if any) and the transport checksum verify.</summary>
    public static bool ChecksumsValid(ReadOnlySpan<byte> packet)
    {
        if (packet[0] >> 4 == 4 && IcmpPackets.Checksum(packet[..IpHeaderLength(packet)]) != 0)
            return false;
        var ip = IpHeaderLength(packet);
        var protocol = packet[0] >> 4 == 6 ? packet[6] : packet[9];
        return IcmpPackets.Checksum([.. PseudoHeader(packet, protocol, packet.Length - ip), .. packet[ip..]]) == 0;
    }

    public static byte[] PseudoHeader(ReadOnlySpan<byte> packet, byte protocol, int length)
    {
        var v6 = packet[0] >> 4 == 6;
        var addresses = v6 ? packet.Slice(8, 32) : packet.Slice(12, 8);
        var pseudo = new byte[addresses.Length + 4];
        addresses.CopyTo(pseudo);
        pseudo[^3] = protocol;
        BinaryPrimitives.WriteUInt16BigEndian(pseudo.AsSpan(pseudo.Length - 2), (ushort)length);
        return pseudo;
    }

    public static byte FlagsOf(ReadOnlySpan<byte> packet) => packet[IpHeaderLength(packet) + 13];

    public static uint SequenceOf(ReadOnlySpan<byte> packet) => BinaryPrimitives.ReadUInt32BigEndian(packet[(IpHeaderLength(packet) + 4)..]);

    public static ReadOnlySpan<byte> TcpPayload(ReadOnlySpan<byte> packet)
    {
        var ip = IpHeaderLength(packet);
        return packet[(ip + ((packet[ip + 12] >> 4) * 4))..];
    }
}
