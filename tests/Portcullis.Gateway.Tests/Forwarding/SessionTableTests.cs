using System.Net;
using Portcullis.Core.RateLimiting;
using Portcullis.Gateway.Forwarding;

namespace Portcullis.Gateway.Tests.Forwarding;

// The session table alone: a session is found by peer and by each of its addresses, a new rate limit reaches all, and
// a new session displaces the peer's session elsewhere and another peer's at its address.
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
    public void PolicyChanged_NewRateLimit_EverySessionGetsItsOwnFreshBucket()
    {
        var a = Open("p2", "10.99.0.2", 1);
        var b = Open("p3", "10.99.0.3", 1);
        Assert.True(a.Requests.TryTake(TimeSpan.Zero));
        Assert.False(a.Requests.TryTake(TimeSpan.Zero));

        _sessions.PolicyChanged(new ForwardingPolicy { RequestsPerSecond = 1, Burst = 1 }, new ForwardingPolicy { RequestsPerSecond = 5, Burst = 5 }, TimeSpan.Zero);

        Assert.NotSame(a.Requests, b.Requests);
        Assert.True(a.Requests.TryTake(TimeSpan.Zero));
    }

    [Fact]
    public void PolicyChanged_SameRateLimit_BucketsKeepWhatWasSpent()
    {
        var a = Open("p2", "10.99.0.2", 1);
        var bucket = a.Requests;
        Assert.True(a.Requests.TryTake(TimeSpan.Zero));

        _sessions.PolicyChanged(new ForwardingPolicy { MaxPerPeer = 4 }, new ForwardingPolicy { MaxPerPeer = 8 }, TimeSpan.Zero);

        Assert.Same(bucket, a.Requests);
    }

    [Fact]
    public void Displaced_SameAddress_Null_ElsewhereOrTakenOver_TheSessionsToEnd()
    {
        var p2 = Open("p2", "10.99.0.2", 1);
        var p3 = Open("p3", "10.99.0.3", 1);

        Assert.Null(_sessions.Displaced("p2", IPAddress.Parse("10.99.0.2")));
        Assert.Equal([p2], _sessions.Displaced("p2", IPAddress.Parse("10.99.0.9")));
        Assert.Equal([p3], _sessions.Displaced("p4", IPAddress.Parse("10.99.0.3")));
        Assert.Equal([p2, p3], _sessions.Displaced("p2", IPAddress.Parse("10.99.0.3")));
        Assert.Empty(_sessions.Displaced("p4", IPAddress.Parse("10.99.0.4"))!);
    }
}
