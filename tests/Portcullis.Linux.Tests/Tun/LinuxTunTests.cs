using System.Net;
using Portcullis.Core.Io;
using Portcullis.Linux.Links;
using Portcullis.Linux.Tests.Support;
using Portcullis.Linux.Tun;

namespace Portcullis.Linux.Tests.Tun;

public sealed class LinuxTunTests
{
    private const string Name = "pctest0";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private static ArraySegment<byte>[] Buffers(int count, int size) =>
        Enumerable.Range(0, count).Select(_ => new ArraySegment<byte>(GC.AllocateArray<byte>(size, pinned: true))).ToArray();

    private static LinuxTun CreateUp(TestNamespace ns, int mtu = 1420) => ns.Run(() =>
    {
        var tun = LinuxTun.Create(Name, mtu);
        Link.AddAddress(Name, IPAddress.Parse("10.200.0.1"), 24);
        Link.SetUp(Name);
        return tun;
    });

    [Fact]
    public void Write_IcmpEchoRequest_KernelEchoReplyIsRead()
    {
        using var ns = new TestNamespace("pclx");
        using var tun = CreateUp(ns);
        const ushort identifier = 0xbeef;
        var request = IcmpPackets.Echo(IPAddress.Parse("10.200.0.2"), IPAddress.Parse("10.200.0.1"), identifier, 1, "portcullis-tun-test"u8);

        var reader = new BlockingCall<byte[]?>(() =>
        {
            // Other traffic (IPv6 router solicitations, ...) may come first: read until the reply.
            var buffers = Buffers(8, tun.Mtu);
            while (true)
            {
                var areas = buffers.ToArray();
                var n = tun.Read(areas);
                if (n == IoResult.Closed)
                    return null;
                for (var i = 0; i < n; i++)
                {
                    if (IcmpPackets.IsEchoReply(areas[i], identifier))
                        return areas[i].ToArray();
                }
            }
        });
        Assert.Equal(1, tun.Write([new ArraySegment<byte>(request)]));

        var finished = reader.Finished(Patience);
        if (!finished)
            tun.Dispose();
        Assert.True(finished, "no echo reply was read");
        var reply = reader.Result;
        Assert.NotNull(reply);
        Assert.Equal(request.AsSpan(28).ToArray(), reply.AsSpan(28).ToArray());
        Assert.Equal(IPAddress.Parse("10.200.0.2"), new IPAddress(reply.AsSpan(16, 4)));
        Assert.Equal(0, tun.WriteDrops);
    }

    [Fact]
    public void Create_WithMtu_InterfaceExistsWithThatMtu()
    {
        using var ns = new TestNamespace("pclx");
        using var tun = ns.Run(() => LinuxTun.Create(Name, 1380));
        Assert.Equal(Name, tun.Name);
        Assert.Equal(1380, tun.Mtu);
        var (exitCode, output) = ns.TryIp("link", "show", Name);
        Assert.Equal(0, exitCode);
        Assert.Contains("mtu 1380", output);
    }

    [Fact]
    public void Dispose_Tun_RemovesInterface()
    {
        using var ns = new TestNamespace("pclx");
        var tun = ns.Run(() => LinuxTun.Create(Name));
        Assert.Equal(0, ns.TryIp("link", "show", Name).ExitCode);

        tun.Dispose();
        tun.Dispose();

        Assert.NotEqual(0, ns.TryIp("link", "show", Name).ExitCode);
        Assert.Throws<ObjectDisposedException>(() => tun.Write([new ArraySegment<byte>(new byte[20])]));
        Assert.Equal(IoResult.Closed, tun.Read(Buffers(1, tun.Mtu)));
    }

    [Fact]
    public void Dispose_WhileReadBlocks_ReadReturnsZeroAndInterfaceGoes()
    {
        using var ns = new TestNamespace("pclx");
        var tun = ns.Run(() => LinuxTun.Create(Name));
        var reader = new BlockingCall<int>(() => tun.Read(Buffers(4, tun.Mtu)));
        Assert.False(reader.Finished(TimeSpan.FromMilliseconds(300)));

        tun.Dispose();

        Assert.True(reader.Finished(Patience));
        Assert.Equal(IoResult.Closed, reader.Result);
        Assert.NotEqual(0, ns.TryIp("link", "show", Name).ExitCode);
    }

    [Fact]
    public void Write_NotAnIpPacket_DroppedAndCounted()
    {
        using var ns = new TestNamespace("pclx");
        using var tun = CreateUp(ns);
        var written = tun.Write([new ArraySegment<byte>(new byte[40])]);
        Assert.Equal(0, written);
        Assert.Equal(1, tun.WriteDrops);
    }

    [Theory]
    [InlineData("")]
    [InlineData("sixteen-chars-xx")]
    [InlineData("bad/name")]
    [InlineData("bad name")]
    public void Create_InvalidName_ThrowsArgumentException(string name)
    {
        var error = Assert.Throws<ArgumentException>(() => LinuxTun.Create(name));
        Assert.Equal("name", error.ParamName);
    }
}
