using System.Net;
using Portcullis.Core.RateLimiting;
using Portcullis.Gateway.Forwarding;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Tests.Forwarding;

// The expiry heap against a brute-force model: after every add and remove, in any order and with equal expiries, the
// head is the earliest live lease, the count is the live count, and every lease's slot says whether it is in.
public sealed class ExpiryHeapTests
{
    private static readonly PeerSession Peer = new("p2", IPAddress.Parse("10.99.0.2"), IPAddress.Parse("198.51.100.10"), new TokenBucket(10, 10, TimeSpan.Zero));

    private static Mapping Lease(int id, int expiresAtSeconds) =>
        new(Peer, MappingProtocol.Tcp, (ushort)id, (ushort)id, null, TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(expiresAtSeconds),
            TimeSpan.FromSeconds(5), (ushort)id);

    [Fact]
    public void RandomAddsAndRemoves_HeadAlwaysTheEarliest_CountAndSlotsAgreeWithTheModel()
    {
        var random = new Random(12);
        var heap = new ExpiryHeap();
        var model = new List<Mapping>();
        var all = Enumerable.Range(1, 400).Select(id => Lease(id, random.Next(50))).ToArray();

        for (var step = 0; step < 20_000; step++)
        {
            var lease = all[random.Next(all.Length)];
            if (lease.ExpirySlot >= 0)
            {
                heap.Remove(lease);
                model.Remove(lease);
            }
            else
            {
                heap.Add(lease);
                model.Add(lease);
            }

            Assert.Equal(model.Count, heap.Count);
            Assert.Equal(model.Count > 0, heap.TryPeek(out var head));
            if (model.Count > 0)
                Assert.Equal(model.Min(m => m.ExpiresAt), head.ExpiresAt);
        }
        Assert.All(all, lease => Assert.Equal(model.Contains(lease), lease.ExpirySlot >= 0));
    }

    [Fact]
    public void TakingTheHeadRepeatedly_GivesExpiryOrder()
    {
        var heap = new ExpiryHeap();
        foreach (var seconds in new[] { 30, 10, 20, 10, 40, 5 })
            heap.Add(Lease(seconds * 10 + heap.Count, seconds));

        var order = new List<int>();
        while (heap.TryPeek(out var head))
        {
            order.Add((int)head.ExpiresAt.TotalSeconds);
            heap.Remove(head);
        }

        Assert.Equal([5, 10, 10, 20, 30, 40], order);
    }

    [Fact]
    public void Add_Twice_Refused_RemoveOfAnAbsentLease_Harmless()
    {
        var heap = new ExpiryHeap();
        var lease = Lease(1, 10);
        heap.Add(lease);

        Assert.Throws<InvalidOperationException>(() => heap.Add(lease));
        heap.Remove(lease);
        heap.Remove(lease);
        Assert.Equal(0, heap.Count);
    }
}
