using System.Net;
using Portcullis.Core.Io;
using Portcullis.Linux.Links;
using Portcullis.Linux.Tests.Support;
using Portcullis.Linux.Tun;
using Portcullis.Linux.Udp;

namespace Portcullis.Linux.Tests.Udp;

/// <summary>The packet paths promise not to allocate; measured on the calling thread after a warm-up.</summary>
public sealed class AllocationTests
{
    [Fact]
    public void SendAndReceive_SteadyState_AllocateNothing()
    {
        using var ns = new TestNamespace("pclx");
        var factory = new LinuxBindFactory();
        using var a = ns.Run(() => factory.Open(0, 0));
        using var b = ns.Run(() => factory.Open(0, 0));
        var destination = UdpEndpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Loopback, b.Port));
        // Growing sizes go one by one; the equal ones after them as UDP GSO messages: both paths are measured.
        var outgoing = Enumerable.Range(0, 16).Select(i => new ArraySegment<byte>(GC.AllocateArray<byte>(i < 8 ? 100 + i : 1400, pinned: true))).ToArray();
        var buffers = Enumerable.Range(0, 16).Select(_ => new ArraySegment<byte>(GC.AllocateArray<byte>(2048, pinned: true))).ToArray();
        var areas = new ArraySegment<byte>[16];
        var sources = new UdpEndpoint[16];

        void RoundTrip()
        {
            a.Send(outgoing, destination);
            var pending = outgoing.Length;
            while (pending > 0)
            {
                buffers.CopyTo(areas, 0);
                pending -= b.Receive(areas.AsSpan(0, pending), sources);
            }
        }

        // Under load a receive often finds nothing ready and waits in poll: warm that path too, so its first use
        // (binding the native call, ...) is not inside the measurement.
        void BlockedRoundTrip()
        {
            var receiver = ThreadId();
            var sender = new Thread(() =>
            {
                WaitUntilPolling(receiver);
                a.Send(outgoing, destination);
            });
            sender.Start();
            var pending = outgoing.Length;
            while (pending > 0)
            {
                buffers.CopyTo(areas, 0);
                pending -= b.Receive(areas.AsSpan(0, pending), sources);
            }
            sender.Join();
        }

        RoundTrip();
        BlockedRoundTrip();
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 50; i++)
            RoundTrip();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    /// <summary>The calling thread's kernel thread id (/proc/thread-self links to PID/task/TID).</summary>
    private static int ThreadId() => int.Parse(Path.GetFileName(new FileInfo("/proc/thread-self").LinkTarget!), System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Returns once thread <paramref name="tid"/> sleeps in poll (its wchan says so), or after 10 s.</summary>
    private static void WaitUntilPolling(int tid)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (DateTime.UtcNow < deadline && !File.ReadAllText($"/proc/self/task/{tid}/wchan").Contains("poll", StringComparison.Ordinal))
            Thread.Yield();
    }

    [Fact]
    public void TunWriteAndRead_SteadyState_AllocateNothing()
    {
        using var ns = new TestNamespace("pclx");
        using var tun = ns.Run(() =>
        {
            var created = LinuxTun.Create("pctest0");
            Link.AddAddress("pctest0", IPAddress.Parse("10.200.0.1"), 24);
            Link.SetUp("pctest0");
            return created;
        });
        var request = new[] { new ArraySegment<byte>(IcmpPackets.Echo(IPAddress.Parse("10.200.0.2"), IPAddress.Parse("10.200.0.1"), 7, 1, new byte[56])) };
        var buffers = new[] { new ArraySegment<byte>(GC.AllocateArray<byte>(tun.Mtu, pinned: true)) };
        var areas = new ArraySegment<byte>[1];

        void RoundTrip()
        {
            tun.Write(request);
            do
            {
                areas[0] = buffers[0];
                tun.Read(areas);
            }
            while (!IcmpPackets.IsEchoReply(areas[0], 7));
        }

        RoundTrip();
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 50; i++)
            RoundTrip();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
