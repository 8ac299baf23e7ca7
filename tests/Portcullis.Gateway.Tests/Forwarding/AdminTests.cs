using Portcullis.PortMapping;
using static Portcullis.Gateway.Tests.Forwarding.ForwardingHarness;

namespace Portcullis.Gateway.Tests.Forwarding;

public sealed class AdminTests
{
    [Fact]
    public void Mappings_Snapshot_DescribesEachLiveMapping()
    {
        using var h = new ForwardingHarness();
        var client = h.Connect(2);
        var result = h.Map(client, MappingProtocol.Udp, 6881, lifetimeSeconds: 600, nonce: Nonce(4));
        h.Time.Advance(TimeSpan.FromSeconds(100));

        var mapping = Assert.Single(h.Service.Mappings);

        Assert.Equal("p2", mapping.PeerId);
        Assert.Equal(client, mapping.TunnelAddress);
        Assert.Equal(MappingProtocol.Udp, mapping.Protocol);
        Assert.Equal(6881, mapping.InternalPort);
        Assert.Equal(PublicAddress, mapping.PublicAddress);
        Assert.Equal(result.ExternalPort, mapping.PublicPort);
        Assert.Equal(TimeSpan.FromSeconds(600), mapping.Lifetime);
        Assert.Equal(h.Time.GetUtcNow() + TimeSpan.FromSeconds(500), mapping.ExpiresAt);
        Assert.True(mapping.HasNonce);
    }

    [Fact]
    public void Revoke_ByPublicPort_RemovesThatMappingOnly()
    {
        using var h = new ForwardingHarness();
        var alice = h.Connect(2);
        var bob = h.Connect(3);
        var hers = h.Map(alice, MappingProtocol.Tcp, 8080);
        var his = h.Map(bob, MappingProtocol.Tcp, 8080);

        Assert.True(h.Service.Revoke(PublicAddress, MappingProtocol.Tcp, hers.ExternalPort));
        Assert.False(h.Service.Revoke(PublicAddress, MappingProtocol.Udp, hers.ExternalPort));
        Assert.False(h.Service.Revoke(PublicAddress, MappingProtocol.Tcp, hers.ExternalPort));

        Assert.Equal(his.ExternalPort, Assert.Single(h.Table.Entries).PublicPort);
    }

    [Fact]
    public void RevokePeer_RemovesAllItsMappingsAndNotItsSession()
    {
        using var h = new ForwardingHarness();
        var client = h.Connect(2);
        var old = h.Map(client, MappingProtocol.Tcp, 8080);
        h.Map(client, MappingProtocol.Udp, 8080);

        Assert.Equal(2, h.Service.RevokePeer("p2"));
        Assert.Equal(0, h.Service.RevokePeer("p9"));
        Assert.Empty(h.Table.Entries);
        var again = h.Map(client, MappingProtocol.Tcp, 8080);

        Assert.Equal(MapStatus.Success, again.Status);
        // A revocation is not a reconnect: the old port is not handed back.
        Assert.NotEqual(old.ExternalPort, again.ExternalPort);
    }
}
