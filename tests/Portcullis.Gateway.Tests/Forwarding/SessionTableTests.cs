using System.Net;
using Portcullis.Core.RateLimiting;
using Portcullis.Gateway.Configuration;
using Portcullis.Gateway.Forwarding;

namespace Portcullis.Gateway.Tests.Forwarding;

// The session table alone: a session is found by peer and by each of its addresses, and a new rate limit reaches all.
public sealed class SessionTableTests
{
    private static readonly IPAddress Public = IPAddress.Parse("198.51.100.10");
    private readonly SessionTable _sessions = new();

    private static TokenBucket Bucket(int perSecond) => new(perSecond, perSecond, TimeSpan.Zero);

    [Fact]
    public void Open_WithIpv6Inbound_FoundByBothAddressesUntilRemoved()
    {
        var tunnel = new TunnelIpv6(IPNetwork.Parse("fd99::/64"), IPNetwork.Parse("10.99.0.0/16"), Routed: false);
        var ipv6 = new ForwardingIpv6(tunnel, IPAddress.Parse("2001:db8::10"));
        var address = IPAddress.Parse("10.99.0.2");

        var session = _sessions.Open("p2", address, Public, Bucket(10), ipv6);

        Assert.True(_sessions.TryGetByAddress(tunnel.Twin(address), out var facet));
        Assert.Same(session, facet.Primary);
        Assert.Equal(IPAddress.Parse("2001:db8::10"), facet.PublicAddress);
        _sessions.Remove(session);
        Assert.False(_sessions.TryGetByAddress(tunnel.Twin(address), out _));
        Assert.False(_sessions.TryGetByPeer("p2", out _));
    }

    [Fact]
    public void Open_AddressOutsideThePrefix_NoFacet()
    {
        var tunnel = new TunnelIpv6(IPNetwork.Parse("fd99::/64"), IPNetwork.Parse("10.99.0.0/16"), Routed: false);

        var session = _sessions.Open("p2", IPAddress.Parse("10.98.0.2"), Public, Bucket(10), new ForwardingIpv6(tunnel, null));

        Assert.Null(session.Ipv6);
        Assert.Equal(1, _sessions.Count);
    }

    [Fact]
    public void RenewRequestBuckets_EverySessionGetsItsOwnFreshBucket()
    {
        var a = _sessions.Open("p2", IPAddress.Parse("10.99.0.2"), Public, Bucket(1), null);
        var b = _sessions.Open("p3", IPAddress.Parse("10.99.0.3"), Public, Bucket(1), null);
        Assert.True(a.Requests.TryTake(TimeSpan.Zero));
        Assert.False(a.Requests.TryTake(TimeSpan.Zero));

        _sessions.RenewRequestBuckets(() => Bucket(5));

        Assert.NotSame(a.Requests, b.Requests);
        Assert.True(a.Requests.TryTake(TimeSpan.Zero));
    }
}
