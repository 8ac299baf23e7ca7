using System.Buffers.Binary;
using Portcullis.Linux.Tun.Offload;
using static Portcullis.Linux.Tests.Tun.Offload.TestPackets;

namespace Portcullis.Linux.Tests.Tun.Offload;

public sealed class TcpCoalescerTests
{
    /// <summary>A flow's consecutive segments of <paramref name="size"/> bytes (the last may be shorter).</summary>
    private static List<byte[]> Flow(bool v6, int count, int size, int lastSize, byte lastFlags = Ack | Psh,
        ushort sourcePort = 40000, uint firstSequence = 1000)
    {
        var packets = new List<byte[]>();
        var sequence = firstSequence;
        for (var i = 0; i < count; i++)
        {
            var last = i == count - 1;
            var length = last ? lastSize : size;
            packets.Add(TcpPacket(v6, sequence, last ? lastFlags : Ack, Payload(length, seed: i), Timestamps,
                id: (ushort)(0x100 + i), sourcePort: sourcePort));
            sequence += (uint)length;
        }
        return packets;
    }

    private static ArraySegment<byte>[] Segments(IEnumerable<byte[]> packets) => packets.Select(p => new ArraySegment<byte>(p)).ToArray();

    /// <summary>Heads and the size of their groups, in write order.</summary>
    private static List<(int Head, int Size)> Groups(TcpCoalescer coalescer, int count) =>
        Enumerable.Range(0, count).Where(i => !coalescer.IsMerged(i)).Select(i => (i, coalescer.GroupSize(i))).ToList();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void InOrderFlow_OneSuperPacketThatSplitsBackIntoTheSameSegments(bool v6)
    {
        var original = Flow(v6, 5, 1000, 333);
        var packets = Segments(original);
        var coalescer = new TcpCoalescer();

        coalescer.Plan(packets);
        Assert.Equal([(0, 5)], Groups(coalescer, packets.Length));
        var buffer = new byte[VirtioNetHeader.Size + TcpCoalescer.MaxLength];
        var length = coalescer.Build(packets, 0, buffer);

        var header = VirtioNetHeader.Read(buffer);
        var superPacket = buffer[VirtioNetHeader.Size..length];
        var ip = v6 ? 40 : 20;
        Assert.Equal(v6 ? VirtioNetHeader.GsoTcpV6 : VirtioNetHeader.GsoTcpV4, header.GsoType);
        Assert.Equal(VirtioNetHeader.NeedsChecksum, header.Flags);
        Assert.Equal(1000, header.GsoSize);
        Assert.Equal(ip + 32, header.HeaderLength);
        Assert.Equal(ip, header.ChecksumStart);
        Assert.Equal(16, header.ChecksumOffset);
        Assert.Equal(ip + 32 + 4333, superPacket.Length);
        Assert.Equal(Ack | Psh, FlagsOf(superPacket));
        if (!v6)
            Assert.Equal(0, Support.IcmpPackets.Checksum(superPacket.AsSpan(0, 20)));
        // The checksum field holds the pseudo-header sum, as CHECKSUM_PARTIAL wants it.
        var pseudo = (ushort)~Support.IcmpPackets.Checksum(PseudoHeader(superPacket, 6, superPacket.Length - ip));
        Assert.Equal(pseudo, BinaryPrimitives.ReadUInt16BigEndian(superPacket.AsSpan(ip + 16)));

        // What the kernel would make of it again is what we were given.
        var count = GsoSplitter.SegmentCount(superPacket, header, out var headerLength);
        Assert.Equal(5, count);
        for (var i = 0; i < count; i++)
        {
            var segment = new byte[2048];
            var n = GsoSplitter.WriteSegment(superPacket, header, headerLength, i, segment);
            Assert.Equal(original[i], segment[..n]);
        }
    }

    [Fact]
    public void BadChecksumInTheMiddle_ThatSegmentGoesAloneAndUnchanged()
    {
        var original = Flow(false, 6, 1000, 1000, lastFlags: Ack);
        original[2][^1] ^= 0x55;
        var coalescer = new TcpCoalescer();

        coalescer.Plan(Segments(original));

        // 0-1 merged; 2 alone (bad); 3-5 cannot join 0-1 across the gap in sequence, so they start their own run.
        Assert.Equal([(0, 2), (2, 1), (3, 3)], Groups(coalescer, original.Count));
    }

    [Fact]
    public void NonTcpAndNonCandidateFlags_Untouched()
    {
        var packets = new List<byte[]>
        {
            UdpPacket(false, Payload(1000)),
            UdpPacket(false, Payload(1000)),
            TcpPacket(false, 1, Ack | Cwr, Payload(1000)),
            TcpPacket(false, 1001, Ack | Ece, Payload(1000)),
            TcpPacket(false, 2001, Ack | Fin, Payload(1000)),
            TcpPacket(false, 3001, Ack, []),
            TcpPacket(true, 1, (byte)(Ack | 0x04), Payload(1000)),
        };
        var coalescer = new TcpCoalescer();

        coalescer.Plan(Segments(packets));

        Assert.All(Enumerable.Range(0, packets.Count), i =>
        {
            Assert.False(coalescer.IsMerged(i));
            Assert.Equal(1, coalescer.GroupSize(i));
        });
    }

    [Fact]
    public void ShortSegment_EndsTheRun()
    {
        var first = Flow(false, 3, 1000, 500, lastFlags: Ack);
        var next = Flow(false, 2, 1000, 1000, lastFlags: Ack, firstSequence: 1000 + 2500);
        var coalescer = new TcpCoalescer();

        coalescer.Plan(Segments([.. first, .. next]));

        Assert.Equal([(0, 3), (3, 2)], Groups(coalescer, 5));
    }

    [Fact]
    public void InterleavedFlows_EachCoalescesWithItsOwn()
    {
        var a = Flow(true, 3, 1200, 1200, lastFlags: Ack, sourcePort: 1111);
        var b = Flow(true, 3, 1200, 1200, lastFlags: Ack, sourcePort: 2222);
        var coalescer = new TcpCoalescer();

        coalescer.Plan(Segments([a[0], b[0], a[1], b[1], a[2], b[2]]));

        Assert.Equal([(0, 3), (1, 3)], Groups(coalescer, 6));
    }

    [Fact]
    public void DifferentAckOrWindowOrTtl_NotMerged()
    {
        var a = TcpPacket(false, 1, Ack, Payload(1000));
        var otherAck = TcpPacket(false, 1001, Ack, Payload(1000), ack: 778);
        var otherWindow = TcpPacket(false, 1001, Ack, Payload(1000), window: 502);
        var otherTtl = TcpPacket(false, 1001, Ack, Payload(1000));
        otherTtl[8] = 63;
        BinaryPrimitives.WriteUInt16BigEndian(otherTtl.AsSpan(10), 0);
        BinaryPrimitives.WriteUInt16BigEndian(otherTtl.AsSpan(10), Support.IcmpPackets.Checksum(otherTtl.AsSpan(0, 20)));

        foreach (var second in new[] { otherAck, otherWindow, otherTtl })
        {
            var coalescer = new TcpCoalescer();
            coalescer.Plan(Segments([a, second]));
            Assert.False(coalescer.IsMerged(1));
        }
    }

    [Fact]
    public void PureAckOfTheFlowBetweenSegments_NothingOvertakesIt()
    {
        var flow = Flow(false, 4, 1000, 1000, lastFlags: Ack);
        var ack = TcpPacket(false, 1000 + 2000, Ack, []);
        var coalescer = new TcpCoalescer();

        coalescer.Plan(Segments([flow[0], flow[1], ack, flow[2], flow[3]]));

        Assert.Equal([(0, 2), (2, 1), (3, 2)], Groups(coalescer, 5));
    }

    [Fact]
    public void LongFlow_SuperPacketsStayWithinAnIpPacketsLength()
    {
        var flow = Flow(false, 100, 1368, 1368, lastFlags: Ack);
        var coalescer = new TcpCoalescer();

        coalescer.Plan(Segments(flow));

        var groups = Groups(coalescer, flow.Count);
        Assert.Equal(100, groups.Sum(g => g.Size));
        Assert.All(groups, g => Assert.True(20 + 32 + (g.Size * 1368) <= TcpCoalescer.MaxLength));
        Assert.Equal([47, 47, 6], groups.Select(g => g.Size));
    }
}
