using System.Net;
using Portcullis.Core.Io;
using Portcullis.Linux.Tests.Support;
using Portcullis.Linux.Udp;

namespace Portcullis.Linux.Tests.Udp;

/// <summary>
/// UDP GSO on send: runs of equal-sized datagrams leave as one message and arrive as the datagrams sent. UDP GRO on
/// receive: the kernel hands such runs over joined, and the bind hands them out one datagram per area.
/// </summary>
public sealed class LinuxBindSegmentationTests
{
    private const int SolSocket = 1;
    private const int SoNoCheck = 11;

    /// <summary>Sealed-packet-like sizes: runs of equal sizes with a short last one, then odd ones out.</summary>
    private static ArraySegment<byte>[] Datagrams()
    {
        int[] sizes = [1452, 1452, 1452, 1452, 700, 1452, 1452, 32, 32, 1000, 1452, 1452, 1452];
        return sizes.Select((size, i) => new ArraySegment<byte>(Enumerable.Range(0, size).Select(k => (byte)(k + (i * 31))).ToArray())).ToArray();
    }

    private static List<byte[]> ReceiveAll(LinuxBind bind, int expected)
    {
        var received = new List<byte[]>();
        var sources = new UdpEndpoint[expected];
        while (received.Count < expected)
        {
            var packets = Enumerable.Range(0, expected - received.Count).Select(_ => new ArraySegment<byte>(new byte[2048])).ToArray();
            var n = bind.Receive(packets, sources);
            Assert.InRange(n, 1, packets.Length);
            received.AddRange(packets.Take(n).Select(p => p.ToArray()));
        }
        return received;
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("::1")]
    public void Send_RunsOfEqualSizes_GoAsGsoMessagesAndArriveInOrder(string loopback)
    {
        using var ns = new TestNamespace("pclx");
        var factory = new LinuxBindFactory();
        using var a = ns.Run(() => factory.OpenBind(0, 0));
        using var b = ns.Run(() => factory.OpenBind(0, 0));
        Assert.True(a.Segmentation);
        var datagrams = Datagrams();

        Assert.Equal(datagrams.Length, a.Send(datagrams, UdpEndpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Parse(loopback), b.Port))));

        Assert.Equal(datagrams.Select(d => d.ToArray()), ReceiveAll(b, datagrams.Length));
        // [1452 x4, 700] [1452 x2, 32] [32] [1000] [1452 x3]: three runs of several datagrams.
        Assert.Equal(3, a.SegmentedSends);
        Assert.Equal(0, a.SegmentationFallbacks);
        // Loopback keeps a GSO message whole up to a UDP_GRO socket.
        Assert.True(b.Coalescing);
        Assert.Equal(3, b.CoalescedReceives);
    }

    [Fact]
    public void Receive_JoinedDatagramsWithSomeTooLargeForTheirAreas_ThoseDroppedTheRestInOrderAreasNotReordered()
    {
        using var ns = new TestNamespace("pclx");
        var factory = new LinuxBindFactory();
        using var a = ns.Run(() => factory.OpenBind(0, 0));
        using var b = ns.Run(() => factory.OpenBind(0, 0));
        var datagrams = Datagrams();
        a.Send(datagrams, UdpEndpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Loopback, b.Port)));
        var expected = datagrams.Where(d => d.Count <= 1000).Select(d => d.ToArray()).ToList();

        var received = new List<byte[]>();
        var sources = new UdpEndpoint[4];
        var arrays = Enumerable.Range(0, 4).Select(_ => new byte[1000]).ToArray();
        while (received.Count < expected.Count)
        {
            var areas = arrays.Select(array => new ArraySegment<byte>(array)).ToArray();
            var n = b.Receive(areas, sources);
            if (n == IoResult.NothingFitted)
                continue;
            Assert.InRange(n, 1, areas.Length);
            for (var i = 0; i < areas.Length; i++)
                Assert.Same(arrays[i], areas[i].Array);
            received.AddRange(areas.Take(n).Select(p => p.ToArray()));
        }

        Assert.Equal(expected, received);
        // The six 1452-byte datagrams before the last that fits (the three after it are not read yet).
        Assert.Equal(6, b.ReceiveDrops);
    }

    [Fact]
    public void Send_KernelRefusesGso_SameDatagramsGoOneByOne()
    {
        using var ns = new TestNamespace("pclx");
        var factory = new LinuxBindFactory();
        using var a = ns.Run(() => factory.OpenBind(0, 0));
        using var b = ns.Run(() => factory.OpenBind(0, 0));
        // Without UDP checksums the kernel cannot segment (udp_send_skb: EINVAL).
        a.SetOption(SolSocket, SoNoCheck, 1);
        var datagrams = Datagrams();

        Assert.Equal(datagrams.Length, a.Send(datagrams, UdpEndpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Loopback, b.Port))));

        Assert.Equal(datagrams.Select(d => d.ToArray()), ReceiveAll(b, datagrams.Length));
        Assert.True(a.SegmentationFallbacks > 0);
        Assert.Equal(0, a.SegmentedSends);
        Assert.Equal(0, a.SendDrops);
    }

    [Fact]
    public void Send_OffloadOff_NoGso()
    {
        using var ns = new TestNamespace("pclx");
        var factory = new LinuxBindFactory { Offload = false };
        using var a = ns.Run(() => factory.OpenBind(0, 0));
        using var b = ns.Run(() => factory.OpenBind(0, 0));
        var datagrams = Datagrams();

        a.Send(datagrams, UdpEndpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Loopback, b.Port)));

        Assert.Equal(datagrams.Select(d => d.ToArray()), ReceiveAll(b, datagrams.Length));
        Assert.False(a.Segmentation);
        Assert.False(b.Coalescing);
        Assert.Equal(0, a.SegmentedSends);
    }
}
