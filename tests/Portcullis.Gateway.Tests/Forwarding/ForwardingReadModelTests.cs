using System.Net;
using Portcullis.Core.RateLimiting;
using Portcullis.Gateway.Forwarding;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Tests.Forwarding;

// The admin/metrics views alone, from parts the test fills.
public sealed class ForwardingReadModelTests
{
    private static readonly IPAddress Public = IPAddress.Parse("198.51.100.10");
    private readonly PeerSession _peer = new("p2", IPAddress.Parse("10.99.0.2"), Public, new TokenBucket(10, 10, TimeSpan.Zero));

    private Mapping Lease(MappingProtocol protocol, ushort publicPort) =>
        new(_peer, protocol, 1000, publicPort, [1], TimeSpan.FromSeconds(600), TimeSpan.FromSeconds(700), TimeSpan.FromSeconds(5), 1000);

    [Fact]
    public void PoolUsage_CountsPortNumbersInRangeOnce()
    {
        var leases = new LeaseBook();
        leases.Add(Lease(MappingProtocol.Tcp, 30000));
        leases.Add(Lease(MappingProtocol.Udp, 30000));
        leases.Add(Lease(MappingProtocol.Tcp, 40000));
        var statics = new StaticForwardSet();
        statics.SetLive(StaticForwardSet.EntryOf(new StaticForwardRule(Public, MappingProtocol.Tcp, 30001, "p2", 80), _peer.TunnelAddress));
        statics.SetRule(new StaticForwardRule(Public, MappingProtocol.Tcp, 30002, "p3", 80)); // dark: not in the kernel

        var usage = ForwardingReadModel.PoolUsage(new PortRange(30000, 30099), leases, statics, quarantined: 7);

        Assert.Equal(new PortPoolUsage(100, 2, 7), usage);
    }

    [Fact]
    public void Mappings_ExpiryOnTheWallClock()
    {
        var leases = new LeaseBook();
        leases.Add(Lease(MappingProtocol.Tcp, 30000));
        var wall = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

        var mapping = Assert.Single(ForwardingReadModel.Mappings(leases, TimeSpan.FromSeconds(100), wall));

        Assert.Equal(wall + TimeSpan.FromSeconds(600), mapping.ExpiresAt);
        Assert.Equal("p2", mapping.PeerId);
        Assert.True(mapping.HasNonce);
    }
}
