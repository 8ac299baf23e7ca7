using System.Net;
using Portcullis.PortMapping.Server;

namespace Portcullis.PortMapping.Tests.Server;

/// <summary>
/// The workers' hand-over on its own: posting a datagram allocates nothing once the pools have grown to the load, and a
/// client's datagrams still arrive whole and in order, long ones as well as short ones, and past a backlog of 16 the
/// next is dropped.
/// </summary>
public sealed class RequestWorkersTests
{
    private static readonly IPAddress[] Clients = [.. Enumerable.Range(2, 4).Select(i => IPAddress.Parse($"10.99.0.{i}"))];
    private static readonly IPEndPoint[] Sources = [.. Clients.Select(c => new IPEndPoint(c, 5350))];

    [Fact]
    public void TryPost_SteadyLoadFromSeveralClients_AllocatesNoMoreThanThePoolsGrowth()
    {
        var handled = 0;
        using var workers = new RequestWorkers(2, 16, (work, _) => Interlocked.Increment(ref handled));
        var datagram = new byte[60];
        void Round()
        {
            var target = Volatile.Read(ref handled) + Clients.Length;
            for (var i = 0; i < Clients.Length; i++)
                Assert.True(workers.TryPost(Clients[i], Sources[i], datagram));
            var spin = default(SpinWait);
            while (Volatile.Read(ref handled) < target)
                spin.SpinOnce(sleep1Threshold: -1);
        }
        // The pools grow to the load first (and the code is compiled).
        for (var i = 0; i < 50; i++)
            Round();

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 500; i++)
            Round();
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // A copy and a record per datagram would be 2000 of each, over 300 KB. What may still be allocated is the pools
        // growing a little more: a worker counts a datagram handled just before it gives its buffer and queue back, so
        // in a busy process a round can find earlier rounds' still out — a few buffers and queues, never one a datagram.
        Assert.True(allocated <= 16 * 1200, $"{allocated} bytes allocated posting 2000 datagrams");
    }

    [Fact]
    public void TryPost_ShortAndLongDatagrams_HandledWholeAndInOrderPerClient()
    {
        var seen = new List<byte[]>();
        using var done = new CountdownEvent(2 + RequestWorkers.MaxBacklogPerClient);
        using var gate = new ManualResetEventSlim();
        using var workers = new RequestWorkers(4, 16, (work, _) =>
        {
            gate.Wait();
            lock (seen)
                seen.Add(work.Datagram.ToArray());
            done.Signal();
        });
        var sent = new List<byte[]>();
        for (var i = 0; i < 1 + RequestWorkers.MaxBacklogPerClient; i++)
        {
            // Every fifth one longer than any request: it borrows from the shared pool.
            var datagram = new byte[i % 5 == 0 ? 3000 : 12 + i];
            datagram.AsSpan().Fill((byte)i);
            sent.Add(datagram);
            Assert.True(workers.TryPost(Clients[0], Sources[0], datagram));
        }
        // A backlog of 16 behind the one in hand, then the next is dropped.
        Assert.False(workers.TryPost(Clients[0], Sources[0], new byte[12]));
        // Another client is not held behind it.
        Assert.True(workers.TryPost(Clients[1], Sources[1], new byte[12]));
        gate.Set();
        Assert.True(done.Wait(TimeSpan.FromSeconds(10)));
        lock (seen)
            Assert.Equal(sent.Select(Convert.ToHexString), seen.Where(d => d.Length != 12 || d[0] != 0).Select(Convert.ToHexString));
    }
}
