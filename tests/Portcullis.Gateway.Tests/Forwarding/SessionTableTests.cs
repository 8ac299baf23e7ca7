using System.Net;
using Portcullis.Core.RateLimiting;
using Portcullis.Gateway.Forwarding;

namespace Portcullis.Gateway.Tests.Forwarding;

// The session table alone: a session is found by peer and by each of its addresses, and a new rate limit reaches all.
public sealed class SessionTableTests
{
    private static readonly IPAddress Public = IPAddress.Parse("198.51.100.10");
    private readonly SessionTable _sessions = new();

    private static TokenBucket Bucket(int perSecond) => new(perSecond, perSecond, TimeSpan.Zero);

    private PeerSession Open(string peer, string address, int perSecond)
    {
        var session = new PeerSession(peer, IPAddress.Parse(address), Public, Bucket(perSecond));
        _sessions.Add(session);
        return session;
    }

    [Fact]
    public void Add_WithIpv6Facet_FoundByBothAddressesUntilRemoved()
    {
        var session = new PeerSession("p2", IPAddress.Parse("10.99.0.2"), Public, Bucket(10));
        var twin = IPAddress.Parse("fd99::2");
        session.AddIpv6(twin, IPAddress.Parse("2001:db8::10"), routed: false);
        _sessions.Add(session);

        Assert.True(_sessions.TryGetByAddress(twin, out var facet));
        Assert.Same(session, facet.Primary);
        Assert.Equal(IPAddress.Parse("2001:db8::10"), facet.PublicAddress);
        _sessions.Remove(session);
        Assert.False(_sessions.TryGetByAddress(twin, out _));
        Assert.False(_sessions.TryGetByPeer("p2", out _));
    }

    [Fact]
    public void RenewRequestBuckets_EverySessionGetsItsOwnFreshBucket()
    {
        var a = Open("p2", "10.99.0.2", 1);
        var b = Open("p3", "10.99.0.3", 1);
        Assert.True(a.Requests.TryTake(TimeSpan.Zero));
        Assert.False(a.Requests.TryTake(TimeSpan.Zero));

        _sessions.RenewRequestBuckets(() => Bucket(5));

        Assert.NotSame(a.Requests, b.Requests);
        Assert.True(a.Requests.TryTake(TimeSpan.Zero));
    }
}
