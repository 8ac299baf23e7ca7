using System.Buffers.Binary;
using System.Net;
using Portcullis.Core.Io;
using Portcullis.Linux.Tests.Support;
using Portcullis.Linux.Tun;

namespace Portcullis.Linux.Tests.Tun;

/// <summary>
/// The wireguard.com/netns deployment: the TUN is made in one namespace and its interface moved to another with
/// `ip link set IF netns NS`. The descriptor keeps working there, the MTU is followed there, and only a deletion
/// (of the interface, or of the namespace it lives in) ends reads.
/// </summary>
public sealed class LinuxTunNamespaceTests
{
    private const string Name = "pcmove0";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private static ArraySegment<byte>[] Buffers(int count, int size) =>
        Enumerable.Range(0, count).Select(_ => new ArraySegment<byte>(GC.AllocateArray<byte>(size, pinned: true))).ToArray();

    private static void Move(TestNamespace from, TestNamespace to) =>
        Assert.Equal(0, from.TryIp("link", "set", Name, "netns", to.Name).ExitCode);

    [Fact]
    public void MovedToAnotherNamespace_EchoRequestWrittenThere_ReplyIsRead()
    {
        using var home = new TestNamespace("pclx");
        using var away = new TestNamespace("pclx");
        using var tun = home.Run(() => LinuxTun.Create(Name));
        Move(home, away);
        Assert.NotEqual(0, home.TryIp("link", "show", Name).ExitCode);
        Assert.Equal(0, away.TryIp("addr", "add", "10.201.0.1/24", "dev", Name).ExitCode);
        Assert.Equal(0, away.TryIp("link", "set", Name, "up").ExitCode);
        const ushort identifier = 0x0e7e;
        var request = IcmpPackets.Echo(IPAddress.Parse("10.201.0.2"), IPAddress.Parse("10.201.0.1"), identifier, 1, "moved"u8);

        var reader = new BlockingCall<byte[]?>(() =>
        {
            var buffers = Buffers(8, 2048);
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
        Assert.True(finished, "no echo reply was read after the move");
        Assert.NotNull(reader.Result);
        Assert.False(tun.IsRemoved);
    }

    [Fact]
    public void Mtu_ChangedHomeThenAfterMoves_IsFollowed()
    {
        using var home = new TestNamespace("pclx");
        using var away = new TestNamespace("pclx");
        using var further = new TestNamespace("pclx");
        using var tun = home.Run(() => LinuxTun.Create(Name, 1420));
        Assert.Equal(1420, tun.Mtu);

        Assert.Equal(0, home.TryIp("link", "set", Name, "mtu", "1500").ExitCode);
        Assert.True(Eventually(() => tun.Mtu == 1500), $"MTU {tun.Mtu} after 1500 at home");

        Move(home, away);
        Assert.Equal(0, away.TryIp("link", "set", Name, "mtu", "34736").ExitCode);
        Assert.True(Eventually(() => tun.Mtu == 34736), $"MTU {tun.Mtu} after 34736 away");

        Move(away, further);
        Assert.Equal(0, further.TryIp("link", "set", Name, "mtu", "1280").ExitCode);
        Assert.True(Eventually(() => tun.Mtu == 1280), $"MTU {tun.Mtu} after 1280 further away");
        Assert.False(tun.IsRemoved);
    }

    [Fact]
    public void DeletedAfterMove_BlockedReadReturnsZeroAndIsRemoved()
    {
        using var home = new TestNamespace("pclx");
        using var away = new TestNamespace("pclx");
        using var tun = home.Run(() => LinuxTun.Create(Name));
        Move(home, away);
        var reader = new BlockingCall<int>(() => tun.Read(Buffers(4, 2048)));
        Assert.False(tun.IsRemoved);

        Assert.Equal(0, away.TryIp("link", "del", Name).ExitCode);

        Assert.True(reader.Finished(Patience), "the read still blocks after the deletion");
        Assert.Equal(IoResult.Closed, reader.Result);
        Assert.True(tun.IsRemoved);
        Assert.Equal(IoResult.Closed, tun.Read(Buffers(1, 2048)));
    }

    [Fact]
    public void NamespaceItMovedToDeleted_BlockedReadReturnsZeroAndIsRemoved()
    {
        using var home = new TestNamespace("pclx");
        var away = new TestNamespace("pclx");
        using var tun = home.Run(() => LinuxTun.Create(Name));
        Move(home, away);
        // Once the MTU set there is seen, the watcher has looked into that namespace: it must not keep it alive.
        Assert.Equal(0, away.TryIp("link", "set", Name, "mtu", "1300").ExitCode);
        Assert.True(Eventually(() => tun.Mtu == 1300), $"MTU {tun.Mtu}");
        var reader = new BlockingCall<int>(() => tun.Read(Buffers(4, 2048)));

        away.Dispose();

        Assert.True(reader.Finished(Patience), "the read still blocks after its namespace went");
        Assert.Equal(IoResult.Closed, reader.Result);
        Assert.True(tun.IsRemoved);
    }

    [Fact]
    public void Read_PacketLargerThanItsBuffer_DroppedCountedAndReadSaysSoInsteadOfWaiting()
    {
        using var ns = new TestNamespace("pclx");
        // Without the vnet header the kernel cuts a packet to the buffer; with it nothing is cut (test below).
        using var tun = ns.Run(() => LinuxTun.Create(Name, 9000, offload: false));
        Assert.Equal(0, ns.TryIp("addr", "add", "10.202.0.1/24", "dev", Name).ExitCode);
        // Nothing but our pings in the TUN: no IPv6 router solicitation when the link comes up.
        Shell.Check("ip", "netns", "exec", ns.Name, "sysctl", "-q", "-w", $"net.ipv6.conf.{Name}.router_solicitations=0");
        Assert.Equal(0, ns.TryIp("link", "set", Name, "up").ExitCode);
        var buffers = Buffers(4, 1500);

        // A 5028-byte echo request routed into the TUN (no one answers it).
        Shell.Run("ip", "netns", "exec", ns.Name, "ping", "-c", "1", "-s", "5000", "-W", "1", "10.202.0.2");
        var cut = new BlockingCall<int>(() => tun.Read(buffers.ToArray()));
        var finished = cut.Finished(Patience);
        if (!finished)
            tun.Dispose();
        Assert.True(finished, "Read kept waiting with buffers too small for what came");
        Assert.Equal(IoResult.NothingFitted, cut.Result);
        Assert.Equal(1, tun.Truncated);
        Assert.True(tun.Mtu >= 5028, $"MTU {tun.Mtu}");

        // The next one fits, whole.
        Shell.Run("ip", "netns", "exec", ns.Name, "ping", "-c", "1", "-s", "100", "-W", "1", "10.202.0.2");
        var areas = buffers.ToArray();
        var whole = new BlockingCall<int>(() => tun.Read(areas));
        Assert.True(whole.Finished(Patience), "the small echo request was not read");
        Assert.Equal(1, whole.Result);
        Assert.Equal(128, areas[0].Count);
        Assert.Equal(128, DeclaredLength(areas[0]));
    }

    [Fact]
    public void Read_WithOffloads_PacketLargerThanItsBuffer_KeptForTheNextReadWithLargerBuffers()
    {
        using var ns = new TestNamespace("pclx");
        using var tun = ns.Run(() => LinuxTun.Create(Name, 9000));
        Assert.True(tun.Offloads.VnetHeader);
        Assert.Equal(0, ns.TryIp("addr", "add", "10.202.0.1/24", "dev", Name).ExitCode);
        Shell.Check("ip", "netns", "exec", ns.Name, "sysctl", "-q", "-w", $"net.ipv6.conf.{Name}.router_solicitations=0");
        Assert.Equal(0, ns.TryIp("link", "set", Name, "up").ExitCode);

        Shell.Run("ip", "netns", "exec", ns.Name, "ping", "-c", "1", "-s", "5000", "-W", "1", "10.202.0.2");
        var small = new BlockingCall<int>(() => tun.Read(Buffers(4, 1500)));
        var finished = small.Finished(Patience);
        if (!finished)
            tun.Dispose();
        Assert.True(finished, "Read kept waiting with buffers too small for what came");
        Assert.Equal(IoResult.NothingFitted, small.Result);
        Assert.True(tun.Mtu >= 5028, $"MTU {tun.Mtu}");

        var areas = Buffers(4, tun.Mtu);
        var whole = new BlockingCall<int>(() => tun.Read(areas));
        Assert.True(whole.Finished(Patience), "the kept echo request was not read");
        Assert.Equal(1, whole.Result);
        Assert.Equal(5028, areas[0].Count);
        Assert.Equal(5028, DeclaredLength(areas[0]));
        Assert.Equal(0, tun.Truncated);
    }

    private static int DeclaredLength(ReadOnlySpan<byte> packet) => packet[0] >> 4 == 4
        ? BinaryPrimitives.ReadUInt16BigEndian(packet[2..])
        : 40 + BinaryPrimitives.ReadUInt16BigEndian(packet[4..]);

    /// <summary>Polls until <paramref name="condition"/> holds: the watcher reacts to a kernel event on its own thread.</summary>
    private static bool Eventually(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (DateTime.UtcNow < deadline)
        {
            if (condition())
                return true;
            Thread.Sleep(10);
        }
        return condition();
    }
}
