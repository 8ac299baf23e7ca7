using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Portcullis.Core.RateLimiting;
using Portcullis.Gateway.Forwarding;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Tests.Forwarding;

// How mappings end, without the service: a release a caller asked for is all or nothing; a session's end and an
// expiry must happen, in one table update, and what the kernel refused waits in the pending set for the retry.
public sealed class LeaseReleasesTests
{
    private static readonly IPAddress Public = IPAddress.Parse("198.51.100.10");

    private readonly FakeTimeProvider _time = new();
    private readonly InMemoryForwardingTable _table = new();
    private readonly LeaseBook _leases = new();
    private readonly PortAllocator _ports;
    private readonly LeaseExpiry _expiry;
    private readonly LeaseCommits _commits;
    private readonly LeaseReleases _releases;
    private readonly ForwardingPolicy _policy = new() { PortRange = new PortRange(30000, 30099), Quarantine = TimeSpan.FromMinutes(5) };
    private readonly PeerSession _peer = new("p2", IPAddress.Parse("10.99.0.2"), Public, new TokenBucket(10, 10, TimeSpan.Zero));
    private TimeSpan _now = TimeSpan.FromMinutes(10);

    public LeaseReleasesTests()
    {
        _ports = new PortAllocator([Public], key => _leases.OwnerOf(key), new Random(5), NullLogger.Instance);
        _expiry = new LeaseExpiry(_time, () => { });
        _commits = new LeaseCommits(_leases, _ports, _expiry, () => _policy, () => _now, NullLogger.Instance);
        var writer = new TableWriter(_table, NullLogger.Instance, () => false);
        _releases = new LeaseReleases(writer, _leases, _commits, _expiry, _ports, NullLogger.Instance);
    }

    private Mapping Leased(ushort publicPort, TimeSpan expiresAt)
    {
        var mapping = new Mapping(_peer, MappingProtocol.Tcp, publicPort, publicPort, null, TimeSpan.FromMinutes(10), expiresAt,
            TimeSpan.FromSeconds(5), publicPort);
        _table.Update([], [mapping.Entry]);
        _commits.Created(mapping);
        return mapping;
    }

    private static ForwardingEntry Static(ushort port) => new(Public, MappingProtocol.Udp, port, IPAddress.Parse("10.99.0.2"), port, "p2", null);

    [Fact]
    public void Release_KernelRefuses_ThrowsAndTheLeaseStays()
    {
        var lease = Leased(30001, _now + TimeSpan.FromMinutes(10));
        _table.FailNext = 1;

        Assert.Throws<ForwardingTableException>(() => _releases.Release([lease], ReleaseReason.Revoked));

        Assert.Equal(1, _leases.Count);
        Assert.Equal(1, _releases.Release([lease], ReleaseReason.Revoked));
        Assert.Empty(_table.Entries);
        Assert.Equal(0, _releases.Release([], ReleaseReason.Revoked));
    }

    [Fact]
    public void SessionEnded_StaticsAndMappings_OneTableUpdate_PortsQuarantined()
    {
        var a = Leased(30001, _now + TimeSpan.FromMinutes(10));
        var b = Leased(30002, _now + TimeSpan.FromMinutes(10));
        var live = Static(40000);
        _table.Update([], [live]);
        var before = _table.Updates.Count;

        _releases.SessionEnded([live], [a, b], _now);

        Assert.Empty(_table.Entries);
        Assert.Equal(3, Assert.Single(_table.Updates.Skip(before)).Remove.Length);
        Assert.Equal(0, _leases.Count);
        Assert.Equal(2, _ports.QuarantinedCount(_now));
    }

    [Fact]
    public void SessionEnded_KernelRefuses_StateLetsGo_EntriesPendingAndRetriedOnTheNextTick()
    {
        var lease = Leased(30001, _now + TimeSpan.FromMinutes(10));
        var live = Static(40000);
        _table.Update([], [live]);
        _table.FailNext = 1;

        _releases.SessionEnded([live], [lease], _now);

        Assert.Equal(0, _leases.Count);
        Assert.Equal(2, _leases.PendingCount);
        Assert.Equal(_now + LeaseExpiry.RemovalRetryInterval, _expiry.Due);
        Assert.Equal(2, _table.Entries.Count);

        _now += LeaseExpiry.RemovalRetryInterval;
        _releases.Tick(_now);

        Assert.Equal(0, _leases.PendingCount);
        Assert.Empty(_table.Entries);
    }

    [Fact]
    public void Tick_DueLeaseGoes_ALaterOneStays_ClockArmedForIt()
    {
        var due = Leased(30001, _now + TimeSpan.FromMinutes(1));
        var later = Leased(30002, _now + TimeSpan.FromMinutes(9));

        _now += TimeSpan.FromMinutes(1);
        _releases.Tick(_now);

        Assert.False(_leases.TryGet(due.PortKey, out _));
        Assert.True(_leases.TryGet(later.PortKey, out _));
        Assert.Equal(PortKey.Of(later.Entry), PortKey.Of(Assert.Single(_table.Entries)));
        Assert.Equal(later.ExpiresAt, _expiry.Due);
    }
}
