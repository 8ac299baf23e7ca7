using System.Net;
using Portcullis.Core.Io;
using Portcullis.WireGuard.Device;

namespace Portcullis.WireGuard.Tests.Device;

/// <summary>The handshake queue's fairness: a full queue gives up the heaviest source's oldest message, never a lone source's.</summary>
public sealed class HandshakeQueueTests
{
    private static UdpEndpoint Source(string address, ushort port = 51820) =>
        UdpEndpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Parse(address), port));

    private static byte[] Message(byte tag) => [1, 0, 0, 0, tag];

    private static List<(UdpEndpoint Source, byte Tag)> Drain(HandshakeQueue queue)
    {
        var taken = new List<(UdpEndpoint, byte)>();
        var batch = new HandshakeWork[queue.MaxBatch];
        while (queue.Count > 0)
        {
            var n = queue.TakeBatch(batch);
            for (var i = 0; i < n; i++)
                taken.Add((batch[i].Source, batch[i].Message[4]));
            queue.Return(batch.AsSpan(0, n));
        }
        return taken;
    }

    [Fact]
    public void TryAdd_FullOfOneSource_NewSourceTakesTheOldestPlace()
    {
        var queue = new HandshakeQueue(capacity: 4, maxBatch: 4);
        for (byte i = 0; i < 4; i++)
            Assert.Equal(HandshakeAdmission.Added, queue.TryAdd(Message(i), Source("198.51.100.1"), out _));

        Assert.Equal(HandshakeAdmission.AddedInPlaceOfAnother, queue.TryAdd(Message(9), Source("203.0.113.21"), out var queued));

        Assert.Equal(4, queued);
        var taken = Drain(queue);
        Assert.Equal([(Source("203.0.113.21"), 9), (Source("198.51.100.1"), 1), (Source("198.51.100.1"), 2), (Source("198.51.100.1"), 3)], taken);
    }

    [Fact]
    public void TryAdd_FullOfLoneMessages_NoneDisplacedNewestRefused()
    {
        // As under a flood of spoofed addresses: every queued message is its source's only one.
        var queue = new HandshakeQueue(capacity: 4, maxBatch: 4);
        for (byte i = 0; i < 4; i++)
            queue.TryAdd(Message(i), Source($"198.51.100.{i + 1}"), out _);

        Assert.Equal(HandshakeAdmission.Refused, queue.TryAdd(Message(9), Source("203.0.113.21"), out _));
        Assert.Equal([0, 1, 2, 3], Drain(queue).Select(t => t.Tag));
    }

    [Fact]
    public void TryAdd_FullAndNoSourceTwoAheadOfTheNewOne_Refused()
    {
        var queue = new HandshakeQueue(capacity: 4, maxBatch: 4);
        queue.TryAdd(Message(0), Source("198.51.100.1"), out _);
        queue.TryAdd(Message(1), Source("198.51.100.2"), out _);
        queue.TryAdd(Message(2), Source("198.51.100.1"), out _);
        queue.TryAdd(Message(3), Source("198.51.100.2"), out _);

        // Another port of the same address is the same source: it holds two already, as does everyone else.
        Assert.Equal(HandshakeAdmission.Refused, queue.TryAdd(Message(4), Source("198.51.100.1", 1000), out _));
        Assert.Equal([0, 1, 2, 3], Drain(queue).Select(t => t.Tag));
    }

    [Fact]
    public void TryAdd_ManySourceFloodFillsTheQueue_LoneSourceStillGetsIn()
    {
        var queue = new HandshakeQueue(capacity: 1024, maxBatch: 32);
        for (var i = 0; i < 100_000; i++)
            queue.TryAdd(Message(0), Source($"198.51.100.{100 + (i % 150)}"), out _);
        Assert.Equal(1024, queue.Count);

        Assert.NotEqual(HandshakeAdmission.Refused, queue.TryAdd(Message(7), Source("203.0.113.21"), out _));
        Assert.Single(Drain(queue), t => t.Tag == 7 && t.Source == Source("203.0.113.21"));
    }

    [Fact]
    public void TryAdd_OldestAreLoneMessagesAndTheHeavySourceBehind_NewSourceDisplacesTheHeaviestsOldest()
    {
        // As a flood leaves the queue when the consumer's batches and the flood's rounds fall out of step: the oldest
        // messages are sources' only ones, and the source holding many sits further back.
        var queue = new HandshakeQueue(capacity: 16, maxBatch: 16);
        for (byte i = 0; i < 10; i++)
            queue.TryAdd(Message(i), Source($"198.51.100.{i + 1}"), out _);
        for (byte i = 10; i < 16; i++)
            queue.TryAdd(Message(i), Source("198.51.100.200"), out _);

        Assert.Equal(HandshakeAdmission.AddedInPlaceOfAnother, queue.TryAdd(Message(99), Source("203.0.113.21"), out _));
        Assert.Equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 99, 11, 12, 13, 14, 15], Drain(queue).Select(t => t.Tag));
    }

    [Fact]
    public void TryAdd_RandomAddsAndTakes_AdmitsExactlyWhenSomeSourceHoldsTwoMoreThanTheNewOnes()
    {
        var random = new Random(1234);
        var queue = new HandshakeQueue(capacity: 32, maxBatch: 8);
        var sources = Enumerable.Range(0, 12).Select(i => Source($"198.51.100.{i + 1}")).ToArray();
        var held = new List<int>(); // the model: each queued message's source, in no particular order
        var batch = new HandshakeWork[8];
        for (var step = 0; step < 20_000; step++)
        {
            if (held.Count > 0 && random.Next(4) == 0)
            {
                var n = queue.TakeBatch(batch.AsSpan(0, 1 + random.Next(8)));
                for (var i = 0; i < n; i++)
                    Assert.True(held.Remove(Array.IndexOf(sources, batch[i].Source)));
                queue.Return(batch.AsSpan(0, n));
            }
            var s = random.Next(sources.Length);
            var mine = held.Count(h => h == s);
            var most = held.Count == 0 ? 0 : held.GroupBy(h => h).Max(g => g.Count());
            var expected = held.Count < queue.Capacity ? HandshakeAdmission.Added
                : most >= mine + 2 ? HandshakeAdmission.AddedInPlaceOfAnother : HandshakeAdmission.Refused;

            Assert.Equal(expected, queue.TryAdd(Message(0), sources[s], out var queued));

            if (expected != HandshakeAdmission.Refused)
                held.Add(s);
            if (expected == HandshakeAdmission.AddedInPlaceOfAnother)
            {
                // Exactly one source lost a message, and it was one holding the most.
                var losers = Enumerable.Range(0, sources.Length)
                    .Where(i => queue.QueuedFrom(sources[i]) != held.Count(h => h == i)).ToArray();
                var loser = Assert.Single(losers);
                Assert.Equal(most - 1, queue.QueuedFrom(sources[loser]));
                held.Remove(loser);
            }
            Assert.Equal(held.Count, queued);
            Assert.All(Enumerable.Range(0, sources.Length), i => Assert.Equal(held.Count(h => h == i), queue.QueuedFrom(sources[i])));
        }
    }

    [Fact]
    public void TryAdd_IPv6SameSlash64_CountsAsOneSource()
    {
        var queue = new HandshakeQueue(capacity: 2, maxBatch: 2);
        queue.TryAdd(Message(0), Source("2001:db8:1:2::1"), out _);
        queue.TryAdd(Message(1), Source("2001:db8:1:2::2"), out _);

        Assert.Equal(HandshakeAdmission.Refused, queue.TryAdd(Message(2), Source("2001:db8:1:2::3"), out _));
        Assert.Equal(HandshakeAdmission.AddedInPlaceOfAnother, queue.TryAdd(Message(3), Source("2001:db8:1:3::1"), out _));
        Assert.Equal([(Source("2001:db8:1:3::1"), 3), (Source("2001:db8:1:2::2"), 1)], Drain(queue));
    }

    [Fact]
    public void TakeBatch_Closed_DrainsThenReturnsZero()
    {
        var queue = new HandshakeQueue(capacity: 4, maxBatch: 4);
        queue.TryAdd(Message(0), Source("198.51.100.1"), out _);
        queue.Close();

        Assert.Equal(HandshakeAdmission.Refused, queue.TryAdd(Message(1), Source("198.51.100.2"), out _));
        var batch = new HandshakeWork[4];
        Assert.Equal(1, queue.TakeBatch(batch));
        queue.Return(batch.AsSpan(0, 1));
        Assert.Equal(0, queue.TakeBatch(batch));
    }

    [Fact]
    public async Task TakeBatch_Empty_BlocksUntilAMessageArrives()
    {
        var queue = new HandshakeQueue(capacity: 4, maxBatch: 4);
        var taking = Task.Run(() => queue.TakeBatch(new HandshakeWork[4]));
        await Task.WhenAny(taking, Task.Delay(TimeSpan.FromMilliseconds(50)));
        Assert.False(taking.IsCompleted);

        queue.TryAdd(Message(0), Source("198.51.100.1"), out _);

        Assert.Equal(1, await taking.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public void TryAdd_FullQueueUnderFlood_DoesNotAllocate()
    {
        var queue = new HandshakeQueue(capacity: 64, maxBatch: 8);
        var sources = Enumerable.Range(0, 150).Select(i => Source($"198.51.100.{100 + i}")).ToArray();
        var message = new byte[148];
        var batch = new HandshakeWork[8];
        for (var i = 0; i < 1000; i++)
            queue.TryAdd(message, sources[i % sources.Length], out _);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            queue.TryAdd(message, sources[i % sources.Length], out _);
            if (i % 16 == 0)
                queue.Return(batch.AsSpan(0, queue.TakeBatch(batch)));
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
