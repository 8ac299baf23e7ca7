using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Portcullis.Core.RateLimiting;
using Portcullis.Gateway.Forwarding;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Tests.Forwarding;

// Lease commits alone (no table, no service): each reaches the lease book, the allocator and the expiry clock.
public sealed class LeaseCommitsTests
{
    private static readonly IPAddress Public = IPAddress.Parse("198.51.100.10");
    private static readonly TimeSpan Now = TimeSpan.FromMinutes(10);

    private readonly FakeTimeProvider _time = new();
    private readonly LeaseBook _leases = new();
    private readonly PortAllocator _ports;
    private readonly LeaseExpiry _expiry;
    private readonly LeaseCommits _commits;
    private readonly ForwardingPolicy _policy = new() { PortRange = new PortRange(30000, 30099), Quarantine = TimeSpan.FromMinutes(5) };
    private readonly PeerSession _peer = new("p2", IPAddress.Parse("10.99.0.2"), Public, new TokenBucket(10, 10, TimeSpan.Zero));

    public LeaseCommitsTests()
    {
        _ports = new PortAllocator([Public], key => _leases.OwnerOf(key), new Random(5), NullLogger.Instance);
        _expiry = new LeaseExpiry(_time, () => { });
        _commits = new LeaseCommits(_leases, _ports, _expiry, () => _policy, () => Now, NullLogger.Instance);
    }

    private Mapping Lease(ushort publicPort, TimeSpan expiresAt) =>
        new(_peer, MappingProtocol.Tcp, 1000, publicPort, null, TimeSpan.FromMinutes(10), expiresAt, TimeSpan.FromSeconds(5), 1000);

    [Fact]
    public void CreatedThenRenewed_InTheBookAndTheClockArmedForTheEarliest()
    {
        var lease = Lease(30007, Now + TimeSpan.FromMinutes(10));
        _commits.Created(lease);
        var renewed = lease.Renewed(TimeSpan.FromMinutes(2), Now + TimeSpan.FromMinutes(2), null);
        _commits.Renewed(lease, renewed);

        Assert.True(_leases.TryGet(lease.PortKey, out var held));
        Assert.Same(renewed, held);
        Assert.Equal(Now + TimeSpan.FromMinutes(2), _expiry.Due);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Released_QuarantinedAndRememberedOnlyAfterExpiryOrSessionEnd(bool expired)
    {
        var (reason, remembered) = expired ? (ReleaseReason.Expired, true) : (ReleaseReason.Deleted, false);
        var lease = Lease(30042, Now + TimeSpan.FromMinutes(10));
        _commits.Created(lease);

        _commits.Released([lease], reason);

        Assert.Equal(0, _leases.Count);
        Assert.Empty(_peer.Mappings);
        Assert.Equal(1, _ports.QuarantinedCount(Now));
        var request = new MapRequest { Client = _peer.TunnelAddress, Protocol = MappingProtocol.Tcp, InternalPort = 1000, Lifetime = TimeSpan.FromMinutes(1) };
        Assert.Equal(MapStatus.Success, _ports.Choose(_peer, request, _policy, Now, out var port));
        Assert.Equal(remembered, port == 30042);
    }
}
