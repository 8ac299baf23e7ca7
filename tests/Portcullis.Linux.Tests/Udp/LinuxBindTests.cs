using System.Net;
using Portcullis.Core.Io;
using Portcullis.Linux.Tests.Support;
using Portcullis.Linux.Udp;

namespace Portcullis.Linux.Tests.Udp;

public sealed class LinuxBindTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private static ArraySegment<byte>[] Buffers(int count, int size) =>
        Enumerable.Range(0, count).Select(_ => new ArraySegment<byte>(GC.AllocateArray<byte>(size, pinned: true))).ToArray();

    private static ArraySegment<byte>[] Datagrams(int count, byte tag) =>
        Enumerable.Range(0, count).Select(i => new ArraySegment<byte>(Enumerable.Repeat((byte)(tag + i), 10 + i).ToArray())).ToArray();

    /// <summary>Receives until <paramref name="expected"/> datagrams have arrived (a batch may be split).</summary>
    private static List<(byte[] Data, UdpEndpoint Source)> ReceiveAll(IBind bind, int expected)
    {
        var received = new List<(byte[], UdpEndpoint)>();
        var sources = new UdpEndpoint[expected];
        while (received.Count < expected)
        {
            var packets = Buffers(expected - received.Count, 2048);
            var n = bind.Receive(packets, sources);
            Assert.InRange(n, 1, packets.Length);
            for (var i = 0; i < n; i++)
                received.Add((packets[i].ToArray(), sources[i]));
        }
        return received;
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("::1")]
    public void SendReceive_BatchOnLoopback_ArrivesWithDecodedSource(string loopback)
    {
        using var ns = new TestNamespace("pclx");
        var factory = new LinuxBindFactory();
        using var a = ns.Run(() => factory.Open(0, 0));
        using var b = ns.Run(() => factory.Open(0, 0));
        var address = IPAddress.Parse(loopback);

        var toB = Datagrams(20, 1);
        Assert.Equal(20, a.Send(toB, UdpEndpoint.FromIPEndPoint(new IPEndPoint(address, b.Port))));
        var atB = ReceiveAll(b, 20);
        Assert.Equal(toB.Select(d => d.ToArray()), atB.Select(r => r.Data));
        var expectedSource = UdpEndpoint.FromIPEndPoint(new IPEndPoint(address, a.Port));
        Assert.All(atB, r => Assert.Equal(expectedSource, r.Source));
        Assert.Equal(address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork, atB[0].Source.IsIPv4);

        var toA = Datagrams(5, 100);
        Assert.Equal(5, b.Send(toA, atB[0].Source));
        var atA = ReceiveAll(a, 5);
        Assert.Equal(toA.Select(d => d.ToArray()), atA.Select(r => r.Data));
        Assert.All(atA, r => Assert.Equal(UdpEndpoint.FromIPEndPoint(new IPEndPoint(address, b.Port)), r.Source));
    }

    [Fact]
    public void Send_MoreThanOneNativeBatch_AllArrive()
    {
        using var ns = new TestNamespace("pclx");
        var factory = new LinuxBindFactory { BatchSize = 8 };
        using var a = ns.Run(() => factory.Open(0, 0));
        using var b = ns.Run(() => factory.Open(0, 0));
        var datagrams = Datagrams(30, 7);
        Assert.Equal(30, a.Send(datagrams, UdpEndpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Loopback, b.Port))));
        var received = ReceiveAll(b, 30);
        Assert.Equal(datagrams.Select(d => d.ToArray()), received.Select(r => r.Data));
    }

    [Fact]
    public void Receive_NothingReady_BlocksUntilADatagramArrives()
    {
        using var ns = new TestNamespace("pclx");
        var factory = new LinuxBindFactory();
        using var a = ns.Run(() => factory.Open(0, 0));
        using var b = ns.Run(() => factory.Open(0, 0));
        var receiver = new BlockingCall<List<(byte[] Data, UdpEndpoint Source)>>(() => ReceiveAll(b, 1));

        Assert.False(receiver.Finished(TimeSpan.FromMilliseconds(300)));
        a.Send(Datagrams(1, 42), UdpEndpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Loopback, b.Port)));
        Assert.True(receiver.Finished(Patience));
        Assert.Equal(Datagrams(1, 42)[0].ToArray(), receiver.Result[0].Data);
    }

    [Fact]
    public void Dispose_WhileReceiveBlocks_ReceiveReturnsZero()
    {
        using var ns = new TestNamespace("pclx");
        var bind = ns.Run(() => new LinuxBindFactory().Open(0, 0));
        var receiver = new BlockingCall<int>(() => bind.Receive(Buffers(4, 2048), new UdpEndpoint[4]));
        Assert.False(receiver.Finished(TimeSpan.FromMilliseconds(300)));

        bind.Dispose();

        Assert.True(receiver.Finished(Patience));
        Assert.Equal(IoResult.Closed, receiver.Result);
        Assert.Equal(IoResult.Closed, bind.Receive(Buffers(1, 2048), new UdpEndpoint[1]));
        Assert.Equal(0, bind.Send(Datagrams(1, 1), UdpEndpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Loopback, 9))));
        bind.Dispose();
    }

    [Fact]
    public void Receive_DatagramLargerThanBuffer_DroppedAndCounted()
    {
        using var ns = new TestNamespace("pclx");
        var factory = new LinuxBindFactory();
        using var a = ns.Run(() => factory.OpenBind(0, 0));
        using var b = ns.Run(() => factory.OpenBind(0, 0));
        var destination = UdpEndpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Loopback, b.Port));
        a.Send([new ArraySegment<byte>(new byte[500]), new ArraySegment<byte>([9, 9, 9])], destination);

        var packets = Buffers(2, 100);
        var sources = new UdpEndpoint[2];
        var n = b.Receive(packets, sources);

        Assert.Equal(1, n);
        Assert.Equal(new byte[] { 9, 9, 9 }, packets[0].ToArray());
        Assert.Equal(1, b.ReceiveDrops);
    }

    [Fact]
    public void Receive_OnlyDatagramsLargerThanBuffers_ReturnsNothingFittedInsteadOfWaiting()
    {
        using var ns = new TestNamespace("pclx");
        var factory = new LinuxBindFactory();
        using var a = ns.Run(() => factory.OpenBind(0, 0));
        using var b = ns.Run(() => factory.OpenBind(0, 0));
        var destination = UdpEndpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Loopback, b.Port));
        a.Send([new ArraySegment<byte>(new byte[500]), new ArraySegment<byte>(new byte[600])], destination);

        var receiver = new BlockingCall<int>(() => b.Receive(Buffers(2, 100), new UdpEndpoint[2]));

        Assert.True(receiver.Finished(Patience), "Receive kept waiting with buffers too small for what arrives");
        Assert.Equal(IoResult.NothingFitted, receiver.Result);
        Assert.Equal(2, b.ReceiveDrops);
    }

    [Fact]
    public void SetMark_Value_SetsSoMark()
    {
        using var ns = new TestNamespace("pclx");
        using var bind = ns.Run(() => new LinuxBindFactory().OpenBind(0, 51820));
        Assert.Equal(51820u, bind.GetMark());
        bind.SetMark(1234);
        Assert.Equal(1234u, bind.GetMark());
        bind.SetMark(0);
        Assert.Equal(0u, bind.GetMark());
    }

    [Fact]
    public void Open_PortZero_GetsAPortAndAFixedPortIsKept()
    {
        using var ns = new TestNamespace("pclx");
        using var any = ns.Run(() => new LinuxBindFactory().Open(0, 0));
        Assert.NotEqual(0, any.Port);
        using var fixedPort = ns.Run(() => new LinuxBindFactory().Open(51999, 0));
        Assert.Equal(51999, fixedPort.Port);
        var clash = Assert.Throws<LinuxCallException>(() => ns.Run(() => new LinuxBindFactory().Open(51999, 0)));
        Assert.Equal(98, clash.Errno); // EADDRINUSE
    }
}
