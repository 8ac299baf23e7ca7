using System.Buffers.Binary;
using System.Net;

namespace Portcullis.WireGuard.Tests.Doubles;

/// <summary>Builds inner IP packets for device tests (the device reads only the version, lengths and addresses).</summary>
internal static class TestPackets
{
    public static byte[] Ipv4Udp(string source, string destination, ReadOnlySpan<byte> payload)
    {
        var packet = new byte[20 + 8 + payload.Length];
        packet[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), (ushort)packet.Length);
        packet[8] = 64;
        packet[9] = 17;
        IPAddress.Parse(source).TryWriteBytes(packet.AsSpan(12, 4), out _);
        IPAddress.Parse(destination).TryWriteBytes(packet.AsSpan(16, 4), out _);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(24), (ushort)(8 + payload.Length));
        payload.CopyTo(packet.AsSpan(28));
        ushort sum = 0;
        uint acc = 0;
        for (var i = 0; i < 20; i += 2)
            acc += BinaryPrimitives.ReadUInt16BigEndian(packet.AsSpan(i));
        while (acc > 0xFFFF)
            acc = (acc & 0xFFFF) + (acc >> 16);
        sum = (ushort)~acc;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(10), sum);
        return packet;
    }

    public static byte[] Ipv6Udp(string source, string destination, ReadOnlySpan<byte> payload)
    {
        var packet = new byte[40 + 8 + payload.Length];
        packet[0] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(4), (ushort)(8 + payload.Length));
        packet[6] = 17;
        packet[7] = 64;
        IPAddress.Parse(source).TryWriteBytes(packet.AsSpan(8, 16), out _);
        IPAddress.Parse(destination).TryWriteBytes(packet.AsSpan(24, 16), out _);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(44), (ushort)(8 + payload.Length));
        payload.CopyTo(packet.AsSpan(48));
        return packet;
    }
}
