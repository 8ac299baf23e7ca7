using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Portcullis.Core.Io;
using Portcullis.Linux.Links;
using Portcullis.Linux.Tests.Support;
using Portcullis.Linux.Tun;

namespace Portcullis.Linux.Tests.Tun;

/// <summary>
/// Two namespaces whose only link is a pair of TUNs joined by a forwarder of ours (Read from one, Write to the
/// other): real kernel TCP through both halves of the offload path, TSO super-packets split on Read and segments
/// merged into GSO super-packets on Write, with offloads on and forced off.
/// </summary>
public sealed class LinuxTunOffloadTests
{
    private const string Name = "pctest0";
    private const int Bytes = 24 * 1024 * 1024;

    private static LinuxTun CreateUp(TestNamespace ns, string address, bool offload) => ns.Run(() =>
    {
        var tun = LinuxTun.Create(Name, 1420, offload);
        Link.AddAddress(Name, IPAddress.Parse(address), 24);
        Link.SetUp(Name);
        return tun;
    });

    /// <summary>
    /// Copies packets from one TUN to the other until the source closes; <paramref name="allocated"/> gets the bytes
    /// this thread allocated after its first 100 writes (splitting and merging must not allocate per packet).
    /// </summary>
    private static Thread Forward(LinuxTun from, LinuxTun to, StrongBox<long> allocated)
    {
        var thread = new Thread(() =>
        {
            long? warm = null;
            var writes = 0;
            var buffers = Enumerable.Range(0, 64).Select(_ => new ArraySegment<byte>(GC.AllocateArray<byte>(4096, pinned: true))).ToArray();
            var areas = new ArraySegment<byte>[buffers.Length];
            while (true)
            {
                buffers.CopyTo(areas, 0);
                var n = from.Read(areas);
                if (n == IoResult.Closed)
                {
                    allocated.Value = warm is { } start ? GC.GetAllocatedBytesForCurrentThread() - start : -2;
                    return;
                }
                if (n > 0)
                {
                    try
                    {
                        to.Write(areas.AsSpan(0, n));
                        // Past the first writes: one-time set-up (lazy statics, tiered JIT) is not per packet.
                        if (++writes == 100)
                            warm = GC.GetAllocatedBytesForCurrentThread();
                    }
                    catch (ObjectDisposedException)
                    {
                        allocated.Value = -1;
                        return;
                    }
                }
            }
        })
        { IsBackground = true };
        thread.Start();
        return thread;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task TcpTransfer_ThroughForwardedTuns_IntactAndOffloadsUsedOnlyWhenOn(bool offload)
    {
        using var a = new TestNamespace("pclx");
        using var b = new TestNamespace("pclx");
        using var tunA = CreateUp(a, "10.201.0.1", offload);
        using var tunB = CreateUp(b, "10.201.0.2", offload);
        Assert.Equal(offload, tunA.Offloads.VnetHeader);
        Assert.Equal(offload, tunA.Offloads.Segmentation);
        var allocated = new[] { new StrongBox<long>(), new StrongBox<long>() };
        var forwarders = new[] { Forward(tunA, tunB, allocated[0]), Forward(tunB, tunA, allocated[1]) };

        using var listener = b.Run(() =>
        {
            var l = new TcpListener(IPAddress.Parse("10.201.0.2"), 0);
            l.Start();
            return l;
        });
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var received = Task.Run(() =>
        {
            using var client = listener.AcceptTcpClient();
            using var stream = client.GetStream();
            return (SHA256.HashData(stream), 0);
        });
        var data = RandomNumberGenerator.GetBytes(Bytes);
        using (var sender = a.Run(() => new TcpClient(AddressFamily.InterNetwork)))
        {
            a.Run(() => sender.Connect(IPAddress.Parse("10.201.0.2"), port));
            using var stream = sender.GetStream();
            stream.Write(data);
        }

        var (digest, _) = await received.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(SHA256.HashData(data), digest);
        if (offload)
        {
            Assert.True(tunA.SuperPacketsRead > 0, "A's reads carried TSO super-packets");
            Assert.True(tunB.SuperPacketsWritten > 0, "B's writes merged segments");
        }
        else
        {
            Assert.Equal(0, tunA.SuperPacketsRead);
            Assert.Equal(0, tunB.SuperPacketsWritten);
        }
        Assert.Equal(0, tunA.OffloadMalformed);
        Assert.Equal(0, tunB.WriteDrops);
        tunA.Dispose();
        tunB.Dispose();
        Assert.All(forwarders, f => Assert.True(f.Join(TimeSpan.FromSeconds(10))));
        // -1: the writer side closed first, -2: too few writes to measure; the bulk direction must have measured.
        Assert.All(allocated, a => Assert.True(a.Value <= 0, $"forwarder allocated {a.Value} bytes"));
        Assert.Contains(allocated, a => a.Value == 0);
    }
}
