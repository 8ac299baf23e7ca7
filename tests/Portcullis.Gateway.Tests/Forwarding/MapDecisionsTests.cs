using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Portcullis.Core.RateLimiting;
using Portcullis.Gateway.Forwarding;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Tests.Forwarding;

// The request decisions alone: no table, no service, no lock. Commits land in a lease book through a recorder, so a
// test sees what a decision changes before its commit (only the batch reservation) and after it.
public sealed class MapDecisionsTests
{
    private static readonly IPAddress Public = IPAddress.Parse("198.51.100.10");
    private static readonly TimeSpan Now = TimeSpan.FromMinutes(10);

    private readonly Dictionary<PortKey, string> _reserved = [];
    private readonly RecordingLeaseCommits _recorder = new();
    private readonly MapDecisions _decisions;
    private readonly PeerSession _peer = new("p2", IPAddress.Parse("10.99.0.2"), Public, new TokenBucket(10, 10, TimeSpan.Zero));

    public MapDecisionsTests()
    {
        var ports = new PortAllocator([Public], key => _recorder.Leases.OwnerOf(key) ?? _reserved.GetValueOrDefault(key), new Random(3), NullLogger.Instance);
        _decisions = new MapDecisions(ports, _reserved, _recorder, NullLogger.Instance);
    }

    private static ForwardingPolicy Policy(int maxPerPeer = 4) => new()
    {
        PortRange = new PortRange(30000, 30099),
        BlockedExternalPorts = new HashSet<ushort>(),
        BlockedInternalPorts = new HashSet<ushort> { 22 },
        MaxPerPeer = maxPerPeer,
        MinLifetime = TimeSpan.FromSeconds(120),
        MaxLifetime = TimeSpan.FromHours(2),
    };

    private static MapRequest Request(ushort internalPort, int lifetimeSeconds = 3600, byte[]? nonce = null,
        MappingProtocol protocol = MappingProtocol.Tcp) => new()
        {
            Client = IPAddress.Parse("10.99.0.2"),
            Protocol = protocol,
            InternalPort = internalPort,
            Lifetime = TimeSpan.FromSeconds(lifetimeSeconds),
            Nonce = nonce,
        };

    private MapResult Granted(MapRequest request)
    {
        var change = _decisions.Map(_peer, request, Policy(), Now).Change!;
        _reserved.Clear();
        return change.Commit();
    }

    [Fact]
    public void Map_New_ReservesPortAndAddsOnlyOnCommit()
    {
        var decision = _decisions.Map(_peer, Request(8080, lifetimeSeconds: 30), Policy(), Now);

        var change = Assert.IsType<MapChange>(decision.Change);
        Assert.Empty(change.Remove);
        var entry = Assert.Single(change.Add);
        Assert.Equal("p2", _reserved[PortKey.Of(entry)]);
        Assert.Equal(0, _recorder.Leases.Count);
        Assert.Empty(_recorder.Commits);

        var result = change.Commit();

        Assert.Equal(MapStatus.Success, result.Status);
        Assert.Equal(entry.PublicPort, result.ExternalPort);
        Assert.Equal(TimeSpan.FromSeconds(120), result.Lifetime); // clamped up to the policy's minimum
        Assert.Equal(TimeSpan.FromSeconds(120) + MapDecisions.KernelExpirySlack, entry.Timeout);
        Assert.Equal([("created", (ReleaseReason?)null)], _recorder.Commits);
        Assert.True(_recorder.Leases.TryGet(PortKey.Of(entry), out _));
    }

    [Fact]
    public void Map_Existing_SameNonceRefreshesOtherNonceRefused()
    {
        var first = Granted(Request(8080, nonce: [1, 2, 3]));

        var refresh = _decisions.Map(_peer, Request(8080, nonce: [1, 2, 3]), Policy(), Now + TimeSpan.FromMinutes(1)).Change!;
        var stolen = _decisions.Map(_peer, Request(8080, nonce: [9, 9, 9]), Policy(), Now).Result!;

        Assert.Equal(first.ExternalPort, Assert.Single(refresh.Remove).PublicPort);
        Assert.Equal(first.ExternalPort, Assert.Single(refresh.Add).PublicPort);
        Assert.Equal(MapStatus.NotAuthorized, stolen.Status);
        Assert.Equal(MapStatus.Success, refresh.Commit().Status);
        Assert.Equal("renewed", _recorder.Commits[^1].What);
        Assert.Equal(1, _recorder.Leases.Count);
    }

    [Fact]
    public void Map_QuotaFullOrBlockedInternalPort_RefusedWithoutReservation()
    {
        _recorder.Leases.Add(new Mapping(_peer, MappingProtocol.Tcp, 1000, 30050, null, TimeSpan.FromHours(1), Now + TimeSpan.FromHours(1),
            MapDecisions.KernelExpirySlack, 1000));

        var quota = _decisions.Map(_peer, Request(8080), Policy(maxPerPeer: 1), Now);
        var blocked = _decisions.Map(_peer, Request(22), Policy(), Now);

        Assert.Equal(MapStatus.QuotaExceeded, quota.Result!.Status);
        Assert.Equal(MapStatus.NotAuthorized, blocked.Result!.Status);
        Assert.Empty(_reserved);
    }

    [Fact]
    public void Map_LifetimeZeroForNothing_SucceedsWithoutChange()
    {
        var decision = _decisions.Map(_peer, Request(8080, lifetimeSeconds: 0), Policy(), Now);

        Assert.Null(decision.Change);
        Assert.Equal(MapStatus.Success, decision.Result!.Status);
        Assert.Equal(0, decision.Result.ExternalPort);
    }

    [Fact]
    public void DeleteAll_TakesOnlyTheNoncesMappingsOfTheProtocol()
    {
        Granted(Request(8080));
        Granted(Request(8081, nonce: [7]));
        Granted(Request(8082, protocol: MappingProtocol.Udp));

        var change = _decisions.DeleteAll(_peer, MappingProtocol.Tcp, nonce: null).Change!;

        Assert.Equal(8080, Assert.Single(change.Remove).InternalPort);
        Assert.Equal(3, _recorder.Leases.Count);
        change.Commit();
        Assert.Equal(("released", ReleaseReason.Deleted), _recorder.Commits[^1]);
        Assert.Equal(2, _recorder.Leases.Count);
        Assert.Null(_decisions.DeleteAll(_peer, MappingProtocol.Tcp, nonce: null).Change);
    }

    [Theory]
    [InlineData(1, 120)]
    [InlineData(600, 600)]
    [InlineData(90000, 7200)]
    public void Clamp_IntoPolicyBounds(int requested, int expected) =>
        Assert.Equal(TimeSpan.FromSeconds(expected), MapDecisions.Clamp(TimeSpan.FromSeconds(requested), Policy()));
}
