using System.Net;
using Portcullis.Core.RateLimiting;
using Portcullis.Gateway.Forwarding;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Tests.Forwarding;

// The lease book alone: what it holds, what falls due, what waits for removal.
public sealed class LeaseBookTests
{
    private static readonly IPAddress Public = IPAddress.Parse("198.51.100.10");
    private readonly LeaseBook _book = new();
    private readonly PeerSession _peer = new("p2", IPAddress.Parse("10.99.0.2"), Public, new TokenBucket(10, 10, TimeSpan.Zero));

    private Mapping Lease(ushort internalPort, ushort publicPort, int expiresAtSeconds) =>
        new(_peer, MappingProtocol.Tcp, internalPort, publicPort, null, TimeSpan.FromSeconds(expiresAtSeconds),
            TimeSpan.FromSeconds(expiresAtSeconds), TimeSpan.FromSeconds(5), internalPort);

    [Fact]
    public void Add_ThenTakeDue_OnlyLeasesDueByThenAndInOrder()
    {
        var late = Lease(1000, 30000, 300);
        var early = Lease(1001, 30001, 100);
        _book.Add(late);
        _book.Add(early);

        Assert.Null(_book.TakeDue(TimeSpan.FromSeconds(99)));
        Assert.Equal([early], _book.TakeDue(TimeSpan.FromSeconds(100)));
        Assert.True(_book.TryPeekNextExpiry(out var next));
        Assert.Equal(TimeSpan.FromSeconds(300), next);
        // Taken off the queue, still in the book until the service removes it.
        Assert.Equal(2, _book.Count);
        Assert.Equal("p2", _book.OwnerOf(early.PortKey));
    }

    [Fact]
    public void Replace_PredecessorLeavesTheExpiryHeap_SuccessorDueAtItsTime()
    {
        var lease = Lease(1000, 30000, 100);
        _book.Add(lease);
        var renewed = lease.Renewed(TimeSpan.FromSeconds(400), TimeSpan.FromSeconds(400));

        _book.Replace(lease, renewed);

        Assert.Null(_book.TakeDue(TimeSpan.FromSeconds(200)));
        Assert.Same(renewed, Assert.Single(_peer.Mappings));
        Assert.True(_book.TryGet(lease.PortKey, out var held));
        Assert.Same(renewed, held);
        Assert.Equal([renewed], _book.TakeDue(TimeSpan.FromSeconds(400)));
    }

    [Fact]
    public void ChurnOfRefreshesAndRemovals_TheExpiryHeapHoldsOnlyTheLiveLeases_ReleasedOnesAreUnreachable()
    {
        var released = Churn(_book, _peer, 1000);

        Assert.Equal(_book.Count, _book.ExpiryCount);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        Assert.DoesNotContain(released, weak => weak.IsAlive);
    }

    // Refreshes every lease twice and removes every other one; what was replaced or removed is returned, weakly held.
    // Not inlined, so no local of the test keeps a lease alive.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static List<WeakReference> Churn(LeaseBook book, PeerSession peer, int count)
    {
        var gone = new List<WeakReference>();
        for (var i = 0; i < count; i++)
        {
            var lease = new Mapping(peer, MappingProtocol.Udp, (ushort)(2000 + i), (ushort)(40000 + i), null, TimeSpan.FromHours(1),
                TimeSpan.FromSeconds(3600 + i), TimeSpan.FromSeconds(5), (ushort)(2000 + i));
            book.Add(lease);
            for (var refresh = 0; refresh < 2; refresh++)
            {
                var renewed = lease.Renewed(TimeSpan.FromHours(1), TimeSpan.FromSeconds(7200 + i + refresh));
                book.Replace(lease, renewed);
                gone.Add(new WeakReference(lease));
                lease = renewed;
            }
            if (i % 2 == 0)
            {
                book.Remove(lease);
                gone.Add(new WeakReference(lease));
            }
        }
        return gone;
    }

    [Fact]
    public void Remove_GoneFromBookAndPeer_NotDueLater()
    {
        var lease = Lease(1000, 30000, 100);
        _book.Add(lease);

        _book.Remove(lease);

        Assert.Equal(0, _book.Count);
        Assert.Empty(_peer.Mappings);
        Assert.Null(_book.OwnerOf(lease.PortKey));
        Assert.Null(_book.TakeDue(TimeSpan.FromSeconds(100)));
    }

    [Fact]
    public void Defer_HoldsThePortUntilRetriedOrLapsedInTheKernel()
    {
        var lease = Lease(1000, 30000, 100);
        var forever = Lease(1001, 30001, 100).Entry with { Timeout = null };
        _book.Defer(lease.Entry, lease.KernelExpiresAt);
        _book.Defer(forever, TimeSpan.MaxValue);

        Assert.Equal("p2", _book.OwnerOf(lease.PortKey));
        Assert.Equal(2, _book.PendingToRetry(TimeSpan.FromSeconds(104)).Count);
        // Past its kernel timeout the element has removed itself; the one without a timeout still waits.
        Assert.Equal([forever], _book.PendingToRetry(TimeSpan.FromSeconds(105)));
        Assert.Null(_book.OwnerOf(lease.PortKey));
        _book.RemovePending(PortKey.Of(forever));
        Assert.Equal(0, _book.PendingCount);
    }

    [Fact]
    public void NotAllowedBy_OutsideRangeOrBlocked_AllWhenDisabled()
    {
        var inside = Lease(1000, 30000, 100);
        var outside = Lease(1001, 40000, 100);
        var blocked = Lease(22, 30001, 100);
        _book.Add(inside);
        _book.Add(outside);
        _book.Add(blocked);
        var policy = new ForwardingPolicy { PortRange = new PortRange(30000, 30099), BlockedInternalPorts = new HashSet<ushort> { 22 } };

        Assert.Equal([outside, blocked], _book.NotAllowedBy(policy).OrderBy(m => m.PublicPort == 40000 ? 0 : 1));
        Assert.Equal(3, _book.NotAllowedBy(policy with { Enabled = false }).Count);
    }
}
