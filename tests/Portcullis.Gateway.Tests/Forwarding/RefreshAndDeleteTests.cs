using Portcullis.PortMapping;
using static Portcullis.Gateway.Tests.Forwarding.ForwardingHarness;

namespace Portcullis.Gateway.Tests.Forwarding;

public sealed class RefreshAndDeleteTests
{
    [Fact]
    public void Map_SameClientProtocolAndInternalPort_RefreshesSameMappingInOneTransaction()
    {
        using var h = new ForwardingHarness();
        var client = h.Connect(2);
        var first = h.Map(client, MappingProtocol.Tcp, 8080, lifetimeSeconds: 600);
        h.Time.Advance(TimeSpan.FromSeconds(300));

        var second = h.Map(client, MappingProtocol.Tcp, 8080, lifetimeSeconds: 900, suggested: 40000);

        Assert.Equal(first.ExternalPort, second.ExternalPort);
        Assert.Equal(TimeSpan.FromSeconds(900), second.Lifetime);
        var refresh = h.Table.Updates[^1];
        var removed = Assert.Single(refresh.Remove);
        var added = Assert.Single(refresh.Add);
        Assert.Equal(removed.Key, added.Key);
        Assert.Equal(TimeSpan.FromSeconds(905), added.Timeout);
        Assert.Single(h.Table.Entries);
        Assert.Single(h.Service.Mappings);
    }

    [Fact]
    public void Map_AnotherPeerSameInternalPort_GetsItsOwnMappingAndLeavesTheFirst()
    {
        using var h = new ForwardingHarness();
        var alice = h.Connect(2);
        var bob = h.Connect(3);
        var hers = h.Map(alice, MappingProtocol.Tcp, 8080);

        var his = h.Map(bob, MappingProtocol.Tcp, 8080, suggested: hers.ExternalPort);

        Assert.NotEqual(hers.ExternalPort, his.ExternalPort);
        Assert.Equal(alice, h.Table.Find(MappingProtocol.Tcp, hers.ExternalPort)!.TunnelAddress);
        Assert.Equal(bob, h.Table.Find(MappingProtocol.Tcp, his.ExternalPort)!.TunnelAddress);
    }

    [Fact]
    public void Delete_ByAnotherPeer_OwnersMappingStays()
    {
        using var h = new ForwardingHarness();
        var alice = h.Connect(2);
        var bob = h.Connect(3);
        var hers = h.Map(alice, MappingProtocol.Tcp, 8080);

        var deleted = h.Delete(bob, MappingProtocol.Tcp, 8080);
        var all = h.Service.DeleteAll(bob, MappingProtocol.Tcp);

        Assert.Equal(MapStatus.Success, deleted.Status);
        Assert.Equal(MapStatus.Success, all.Status);
        Assert.Equal(alice, h.Table.Find(MappingProtocol.Tcp, hers.ExternalPort)!.TunnelAddress);
        Assert.Single(h.Service.Mappings);
    }

    [Fact]
    public void Delete_Existing_RemovedFromKernelAnswerHasPortAndLifetimeZero()
    {
        using var h = new ForwardingHarness();
        var client = h.Connect(2);
        h.Map(client, MappingProtocol.Udp, 5000);

        var result = h.Delete(client, MappingProtocol.Udp, 5000);

        Assert.Equal(new MapResult(MapStatus.Success, PublicAddress, 0, 5000, TimeSpan.Zero), result);
        Assert.Empty(h.Table.Entries);
        Assert.Empty(h.Service.Mappings);
    }

    [Fact]
    public void Delete_NothingMapped_SucceedsWithoutTouchingTheKernel()
    {
        using var h = new ForwardingHarness();
        var client = h.Connect(2);

        var result = h.Delete(client, MappingProtocol.Tcp, 8080);

        Assert.Equal(MapStatus.Success, result.Status);
        Assert.Empty(h.Table.Updates);
    }

    [Fact]
    public void Map_PcpMappingRequestedWithAnotherNonce_NotAuthorized()
    {
        using var h = new ForwardingHarness();
        var client = h.Connect(2);
        var created = h.Map(client, MappingProtocol.Tcp, 8080, nonce: Nonce(1));

        var otherNonce = h.Map(client, MappingProtocol.Tcp, 8080, nonce: Nonce(2));
        var noNonce = h.Map(client, MappingProtocol.Tcp, 8080);
        var sameNonce = h.Map(client, MappingProtocol.Tcp, 8080, nonce: Nonce(1));

        Assert.Equal(MapStatus.NotAuthorized, otherNonce.Status);
        Assert.Equal(MapStatus.NotAuthorized, noNonce.Status);
        Assert.Equal(MapStatus.Success, sameNonce.Status);
        Assert.Equal(created.ExternalPort, sameNonce.ExternalPort);
    }

    [Fact]
    public void Delete_PcpMappingWithoutItsNonce_NotAuthorizedAndMappingStays()
    {
        using var h = new ForwardingHarness();
        var client = h.Connect(2);
        h.Map(client, MappingProtocol.Tcp, 8080, nonce: Nonce(1));

        var wrong = h.Delete(client, MappingProtocol.Tcp, 8080, nonce: Nonce(9));
        var none = h.Delete(client, MappingProtocol.Tcp, 8080);
        var deleteAll = h.Service.DeleteAll(client, MappingProtocol.Tcp);
        Assert.Single(h.Table.Entries);
        var right = h.Delete(client, MappingProtocol.Tcp, 8080, nonce: Nonce(1));

        Assert.Equal(MapStatus.NotAuthorized, wrong.Status);
        Assert.Equal(MapStatus.NotAuthorized, none.Status);
        Assert.Equal(MapStatus.Success, deleteAll.Status);
        Assert.Equal(MapStatus.Success, right.Status);
        Assert.Empty(h.Table.Entries);
    }

    [Fact]
    public void Map_NonceCopied_CallerReusingItsBufferDoesNotChangeTheMapping()
    {
        using var h = new ForwardingHarness();
        var client = h.Connect(2);
        var buffer = Nonce(1);
        h.Map(client, MappingProtocol.Tcp, 8080, nonce: buffer);

        buffer.AsSpan().Fill(7);

        Assert.Equal(MapStatus.NotAuthorized, h.Map(client, MappingProtocol.Tcp, 8080, nonce: Nonce(7)).Status);
        Assert.Equal(MapStatus.Success, h.Map(client, MappingProtocol.Tcp, 8080, nonce: Nonce(1)).Status);
    }

    [Fact]
    public void Map_NatPmpMappingRefreshedOverPcp_Succeeds()
    {
        using var h = new ForwardingHarness();
        var client = h.Connect(2);
        var created = h.Map(client, MappingProtocol.Udp, 6881);

        var refreshed = h.Map(client, MappingProtocol.Udp, 6881, nonce: Nonce(3));

        Assert.Equal(MapStatus.Success, refreshed.Status);
        Assert.Equal(created.ExternalPort, refreshed.ExternalPort);
    }

    [Fact]
    public void DeleteAll_RemovesThatProtocolsNatPmpMappingsOnly()
    {
        using var h = new ForwardingHarness();
        var client = h.Connect(2);
        h.Map(client, MappingProtocol.Tcp, 8080);
        h.Map(client, MappingProtocol.Tcp, 8081);
        var pcp = h.Map(client, MappingProtocol.Tcp, 8082, nonce: Nonce(1));
        var udp = h.Map(client, MappingProtocol.Udp, 8080);

        var result = h.Service.DeleteAll(client, MappingProtocol.Tcp);

        Assert.Equal(new MapResult(MapStatus.Success, PublicAddress, 0, 0, TimeSpan.Zero), result);
        Assert.Equal(
            [(MappingProtocol.Tcp, pcp.ExternalPort), (MappingProtocol.Udp, udp.ExternalPort)],
            h.Table.Entries.Select(e => (e.Protocol, e.PublicPort)).Order());
        // Both went in one transaction.
        Assert.Equal(2, h.Table.Updates[^1].Remove.Length);
    }

    [Fact]
    public void DeleteAll_WithANonce_RemovesThatNoncesMappingsOnly()
    {
        using var h = new ForwardingHarness();
        var client = h.Connect(2);
        h.Map(client, MappingProtocol.Tcp, 8080, nonce: Nonce(1)); // four: the default quota per peer
        var otherApplication = h.Map(client, MappingProtocol.Tcp, 8082, nonce: Nonce(2));
        var natPmp = h.Map(client, MappingProtocol.Tcp, 8083);
        var udp = h.Map(client, MappingProtocol.Udp, 8080, nonce: Nonce(1));

        var result = h.Service.DeleteAll(client, MappingProtocol.Tcp, Nonce(1));

        Assert.Equal(MapStatus.Success, result.Status);
        Assert.Equal(
            [(MappingProtocol.Tcp, otherApplication.ExternalPort), (MappingProtocol.Tcp, natPmp.ExternalPort), (MappingProtocol.Udp, udp.ExternalPort)],
            h.Table.Entries.Select(e => (e.Protocol, e.PublicPort)).Order());
        Assert.Single(h.Table.Updates[^1].Remove);
    }

    [Fact]
    public void Map_EmptyNonce_CountsAsNone()
    {
        using var h = new ForwardingHarness();
        var client = h.Connect(2);
        h.Service.Map(new MapRequest
        {
            Client = client,
            Protocol = MappingProtocol.Tcp,
            InternalPort = 8080,
            Lifetime = TimeSpan.FromSeconds(600),
            Nonce = ReadOnlyMemory<byte>.Empty,
        });

        Assert.False(Assert.Single(h.Service.Mappings).HasNonce);
        Assert.Equal(MapStatus.Success, h.Delete(client, MappingProtocol.Tcp, 8080).Status);
        Assert.Empty(h.Table.Entries);
    }
}
