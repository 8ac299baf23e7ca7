using System.Buffers.Binary;
using Portcullis.Linux.Tun.Offload;
using static Portcullis.Linux.Tests.Tun.Offload.TestPackets;

namespace Portcullis.Linux.Tests.Tun.Offload;

public sealed class GsoSplitterTests
{
    private static VirtioNetHeader TsoHeader(byte[] superPacket, ushort gsoSize, bool ecn = false)
    {
        var v6 = superPacket[0] >> 4 == 6;
        var ip = IpHeaderLength(superPacket);
        return new VirtioNetHeader
        {
            Flags = VirtioNetHeader.NeedsChecksum,
            GsoType = (byte)((v6 ? VirtioNetHeader.GsoTcpV6 : VirtioNetHeader.GsoTcpV4) | (ecn ? VirtioNetHeader.GsoEcn : 0)),
            // Deliberately short: hdr_len is a hint; the TCP header's own length decides.
            HeaderLength = (ushort)(ip + 20),
            GsoSize = gsoSize,
            ChecksumStart = (ushort)ip,
            ChecksumOffset = 16,
        };
    }

    private static List<byte[]> Split(byte[] superPacket, VirtioNetHeader header)
    {
        var count = GsoSplitter.SegmentCount(superPacket, header, out var headerLength);
        var segments = new List<byte[]>();
        for (var i = 0; i < count; i++)
        {
            var destination = new byte[2048];
            var length = GsoSplitter.WriteSegment(superPacket, header, headerLength, i, destination);
            Assert.Equal(GsoSplitter.SegmentLength(superPacket.Length, header, headerLength, i), length);
            segments.Add(destination[..length]);
        }
        return segments;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Tcp_WithOptionsAndOddLastSegment_SegmentsAreWhatTheKernelWouldSend(bool v6)
    {
        var payload = Payload((3 * 1000) + 77);
        var superPacket = TcpPacket(v6, 0xfffff000, Ack | Psh | Fin, payload, Timestamps, id: 0xfffe);

        var segments = Split(superPacket, TsoHeader(superPacket, 1000));

        Assert.Equal(4, segments.Count);
        var ip = v6 ? 40 : 20;
        for (var i = 0; i < segments.Count; i++)
        {
            var segment = segments[i];
            var last = i == segments.Count - 1;
            Assert.Equal(ip + 32 + (last ? 77 : 1000), segment.Length);
            Assert.True(ChecksumsValid(segment), $"segment {i} checksums");
            Assert.Equal(unchecked(0xfffff000u + (uint)(i * 1000)), SequenceOf(segment)); // wraps past 2^32
            Assert.Equal(last ? Ack | Psh | Fin : Ack, FlagsOf(segment));
            Assert.Equal(Timestamps, segment.AsSpan(ip + 20, 12).ToArray());
            if (v6)
                Assert.Equal(segment.Length - 40, BinaryPrimitives.ReadUInt16BigEndian(segment.AsSpan(4)));
            else
            {
                Assert.Equal(segment.Length, BinaryPrimitives.ReadUInt16BigEndian(segment.AsSpan(2)));
                Assert.Equal((ushort)(0xfffe + i), BinaryPrimitives.ReadUInt16BigEndian(segment.AsSpan(4)));
            }
        }
        Assert.Equal(payload, segments.SelectMany(s => TcpPayload(s).ToArray()).ToArray());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Tcp_EcnSuperPacket_CwrOnlyOnFirstSegmentEceOnAll(bool v6)
    {
        var superPacket = TcpPacket(v6, 1, Ack | Cwr | Ece, Payload(2500));

        var segments = Split(superPacket, TsoHeader(superPacket, 1000, ecn: true));

        Assert.Equal([Ack | Cwr | Ece, Ack | Ece, Ack | Ece], segments.Select(s => (int)FlagsOf(s)));
        Assert.All(segments, s => Assert.True(ChecksumsValid(s)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Udp_UsoSuperPacket_EachDatagramHasItsLengthAndChecksum(bool v6)
    {
        var payload = Payload(2900, seed: 3);
        var superPacket = UdpPacket(v6, payload);
        var ip = v6 ? 40 : 20;
        var header = new VirtioNetHeader
        {
            Flags = VirtioNetHeader.NeedsChecksum,
            GsoType = VirtioNetHeader.GsoUdpL4,
            HeaderLength = (ushort)(ip + 8),
            GsoSize = 1200,
            ChecksumStart = (ushort)ip,
            ChecksumOffset = 6,
        };

        var segments = Split(superPacket, header);

        Assert.Equal([1200, 1200, 500], segments.Select(s => s.Length - ip - 8));
        Assert.All(segments, s =>
        {
            Assert.True(ChecksumsValid(s));
            Assert.Equal(s.Length - ip, BinaryPrimitives.ReadUInt16BigEndian(s.AsSpan(ip + 4)));
        });
        Assert.Equal(payload, segments.SelectMany(s => s.AsSpan(ip + 8).ToArray()).ToArray());
    }

    [Theory]
    [InlineData(false, 6)]
    [InlineData(true, 6)]
    [InlineData(false, 17)]
    public void PlainPacketWithPartialChecksum_ChecksumIsFinished(bool v6, int protocol)
    {
        var packet = protocol == 6 ? TcpPacket(v6, 9, Ack | Psh, Payload(333)) : UdpPacket(v6, Payload(333));
        var ip = IpHeaderLength(packet);
        var offset = protocol == 6 ? 16 : 6;
        // What the kernel hands over with CHECKSUM_PARTIAL: the pseudo-header sum, not complemented.
        var pseudo = (ushort)~Support.IcmpPackets.Checksum(PseudoHeader(packet, (byte)protocol, packet.Length - ip));
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(ip + offset), pseudo);
        Assert.False(ChecksumsValid(packet));
        var header = new VirtioNetHeader { Flags = VirtioNetHeader.NeedsChecksum, ChecksumStart = (ushort)ip, ChecksumOffset = (ushort)offset };

        var segments = Split(packet, header);

        var segment = Assert.Single(segments);
        Assert.True(ChecksumsValid(segment));
    }

    [Fact]
    public void PlainPacketWithoutChecksumFlag_PassesByteForByteEvenWithABadChecksum()
    {
        var packet = TcpPacket(false, 9, Ack, Payload(100));
        packet[^1] ^= 0xff; // the checksum no longer matches: the receiver judges that, not us

        var segment = Assert.Single(Split(packet, default));

        Assert.Equal(packet, segment);
        Assert.False(ChecksumsValid(segment));
    }

    [Fact]
    public void HeaderNotDescribingThePacket_NoSegments()
    {
        var v4 = TcpPacket(false, 1, Ack, Payload(3000));
        var v6 = TcpPacket(true, 1, Ack, Payload(3000));

        Assert.Equal(0, GsoSplitter.SegmentCount(v6, TsoHeader(v4, 1000), out _));      // TCPV4 on an IPv6 packet
        var header = TsoHeader(v4, 1000);
        header.ChecksumStart = 3000;
        Assert.Equal(0, GsoSplitter.SegmentCount(v4, header, out _));                     // transport beyond the end
        header = TsoHeader(v4, 0);
        Assert.Equal(0, GsoSplitter.SegmentCount(v4, header, out _));                     // no segment size
        header = TsoHeader(v4, 1000);
        header.GsoType = VirtioNetHeader.GsoUdp;
        Assert.Equal(0, GsoSplitter.SegmentCount(v4, header, out _));                     // UFO: fragments, never asked for
    }
}
