using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Portcullis.Core.RateLimiting;
using Portcullis.Gateway.Forwarding;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Tests.Forwarding;

// PCP PEER decisions alone: no table, no service, no lock. Commits land in a lease book through a recorder, so a test
// sees what a decision changes before its commit (only the batch reservation) and after it.
public sealed class PeerDecisionsTests
{
    private static readonly IPAddress Public = IPAddress.Parse("198.51.100.10");
    private static readonly TimeSpan Now = TimeSpan.FromMinutes(10);
    private static readonly IPEndPoint Remote = new(IPAddress.Parse("203.0.113.7"), 6881);
    private static readonly ForwardingPolicy Policy = new() { PortRange = new PortRange(30000, 30099), MaxPerPeer = 2 };

    private readonly Dictionary<PortKey, string> _reserved = [];
    private readonly RecordingLeaseCommits _recorder = new();
    private readonly PeerDecisions _decisions;
    private readonly PeerSession _peer = new("p2", IPAddress.Parse("10.99.0.2"), Public, new TokenBucket(10, 10, TimeSpan.Zero));

    public PeerDecisionsTests()
    {
        var ports = new PortAllocator([Public], key => _recorder.Leases.OwnerOf(key) ?? _reserved.GetValueOrDefault(key), new Random(3), NullLogger.Instance);
        _decisions = new PeerDecisions(ports, _reserved, _recorder, new MapDecisions(ports, _reserved, _recorder, NullLogger.Instance));
    }

    private static PeerMappingRequest Request(IPEndPoint remote, int lifetimeSeconds = 600, byte[]? nonce = null) => new()
    {
        Client = IPAddress.Parse("10.99.0.2"),
        Protocol = MappingProtocol.Udp,
        InternalPort = 6881,
        RemoteAddress = remote.Address,
        RemotePort = (ushort)remote.Port,
        Lifetime = TimeSpan.FromSeconds(lifetimeSeconds),
        Nonce = nonce,
    };

    [Fact]
    public void Decide_New_APeerEntryForThatFlowOnly_ReservedBeforeItsCommit_LeasedAfter()
    {
        var change = _decisions.Decide(_peer, Request(Remote), Policy, Now).Change!;

        var entry = Assert.IsType<PeerEntry>(Assert.Single(change.Add));
        Assert.Equal(Remote, entry.Remote);
        Assert.Equal(_peer.TunnelAddress, entry.TunnelAddress);
        Assert.InRange(entry.PublicPort, (ushort)30000, (ushort)30099);
        Assert.Equal("p2", _reserved[PortKey.Of(entry)]);
        Assert.Equal(0, _recorder.Leases.Count);

        var result = change.Commit();

        Assert.Equal(MapStatus.Success, result.Status);
        Assert.Equal(entry.PublicPort, result.ExternalPort);
        Assert.Equal([("peer created", (ReleaseReason?)null)], _recorder.Commits);
        Assert.Same(_recorder.Leases.Mappings.Single(), _peer.FindPeer(MappingProtocol.Udp, 6881, Remote));
    }

    [Fact]
    public void Decide_RemoteOfTheOtherFamily_NotAuthorized_NothingReserved()
    {
        var decision = _decisions.Decide(_peer, Request(new IPEndPoint(IPAddress.Parse("2001:db8::7"), 6881)), Policy, Now);

        Assert.Equal(MapStatus.NotAuthorized, decision.Result!.Status);
        Assert.Empty(_reserved);
    }

    [Fact]
    public void Decide_Again_RefreshesWithItsNonce_RefusesAnotherNonce_LifetimeZeroDeletes()
    {
        var nonce = Enumerable.Repeat((byte)1, 12).ToArray();
        _decisions.Decide(_peer, Request(Remote, nonce: nonce), Policy, Now).Change!.Commit();

        Assert.Equal(MapStatus.NotAuthorized, _decisions.Decide(_peer, Request(Remote, nonce: [.. Enumerable.Repeat((byte)2, 12)]), Policy, Now).Result!.Status);
        var refresh = _decisions.Decide(_peer, Request(Remote, nonce: nonce), Policy, Now).Change!;
        Assert.Single(refresh.Remove);
        Assert.Single(refresh.Add);
        refresh.Commit();
        var delete = _decisions.Decide(_peer, Request(Remote, lifetimeSeconds: 0, nonce: nonce), Policy, Now).Change!;
        Assert.Empty(delete.Add);
        Assert.Equal(TimeSpan.Zero, delete.Commit().Lifetime);

        Assert.Equal([("peer created", null), ("renewed", null), ("released", (ReleaseReason?)ReleaseReason.Deleted)], _recorder.Commits);
        Assert.Equal(0, _recorder.Leases.Count);
    }

    [Fact]
    public void Decide_OverQuota_QuotaExceeded()
    {
        _decisions.Decide(_peer, Request(Remote), Policy, Now).Change!.Commit();
        _decisions.Decide(_peer, Request(new IPEndPoint(Remote.Address, 6882)), Policy, Now).Change!.Commit();

        Assert.Equal(MapStatus.QuotaExceeded, _decisions.Decide(_peer, Request(new IPEndPoint(Remote.Address, 6883)), Policy, Now).Result!.Status);
    }

    [Fact]
    public void Decide_RoutedIpv6Facet_TheOwnAddressAndPortAnswered_NothingToWrite()
    {
        var facet = _peer.AddIpv6(IPAddress.Parse("2001:db8:1::2"), IPAddress.Parse("2001:db8:1::2"), routed: true);
        var request = Request(new IPEndPoint(IPAddress.Parse("2001:db8:9::7"), 6881)) with { Client = facet.TunnelAddress };

        var result = _decisions.Decide(facet, request, Policy, Now).Result!;

        Assert.Equal(MapStatus.Success, result.Status);
        Assert.Equal(facet.TunnelAddress, result.ExternalAddress);
        Assert.Equal(6881, result.ExternalPort);
        Assert.Empty(_reserved);
        Assert.Empty(_recorder.Commits);
    }
}
