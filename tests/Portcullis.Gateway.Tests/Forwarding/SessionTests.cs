using System.Net;
using Portcullis.Gateway.Forwarding;
using Portcullis.PortMapping;
using static Portcullis.Gateway.Tests.Forwarding.ForwardingHarness;

namespace Portcullis.Gateway.Tests.Forwarding;

public sealed class SessionTests
{
    [Fact]
    public void Requests_AddressWithoutLiveSession_UnknownClient()
    {
        using var h = new ForwardingHarness();
        var stranger = TunnelAddress(9);

        Assert.Equal(MapStatus.UnknownClient, h.Map(stranger, MappingProtocol.Tcp, 8080).Status);
        Assert.Equal(MapStatus.UnknownClient, h.Service.DeleteAll(stranger, MappingProtocol.Tcp).Status);
        Assert.Equal(MapStatus.UnknownClient, h.Service.GetPublicAddress(stranger).Status);
        Assert.Empty(h.Table.Updates);
    }

    [Fact]
    public void GetPublicAddress_LiveSession_FirstSharedAddress()
    {
        using var table = new InMemoryForwardingTable();
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        using var service = new ForwardingService(table,
            [IPAddress.Parse("::ffff:198.51.100.10"), IPAddress.Parse("198.51.100.12")],
            new ForwardingPolicy(), time, new CapturingLogger<ForwardingService>());
        service.Start();
        service.PeerSessionStarted("p2", TunnelAddress(2));

        var result = service.GetPublicAddress(TunnelAddress(2));

        Assert.Equal(new MapResult(MapStatus.Success, PublicAddress, 0, 0, TimeSpan.Zero), result);
    }

    [Fact]
    public void Map_ClientAsIPv4MappedIPv6_SameSession()
    {
        using var h = new ForwardingHarness();
        h.Connect(2);

        var mapped = h.Map(IPAddress.Parse("::ffff:10.99.0.2"), MappingProtocol.Tcp, 8080);
        var plain = h.Map(TunnelAddress(2), MappingProtocol.Tcp, 8080);

        Assert.Equal(MapStatus.Success, mapped.Status);
        Assert.Equal(mapped.ExternalPort, plain.ExternalPort);
    }

    [Fact]
    public void PeerSessionEnded_RemovesItsMappingsInOneTransactionAndItsAddressIsUnknown()
    {
        using var h = new ForwardingHarness();
        var alice = h.Connect(2);
        var bob = h.Connect(3);
        h.Map(alice, MappingProtocol.Tcp, 8080);
        h.Map(alice, MappingProtocol.Udp, 8080);
        var his = h.Map(bob, MappingProtocol.Tcp, 8080);
        var updatesBefore = h.Table.Updates.Count;

        h.Disconnect(2);

        Assert.Equal(updatesBefore + 1, h.Table.Updates.Count);
        Assert.Equal(2, h.Table.Updates[^1].Remove.Length);
        Assert.Equal(his.ExternalPort, Assert.Single(h.Table.Entries).PublicPort);
        Assert.Equal(MapStatus.UnknownClient, h.Map(alice, MappingProtocol.Tcp, 8080).Status);
    }

    [Fact]
    public void PeerSessionEnded_UnknownPeer_Ignored()
    {
        using var h = new ForwardingHarness();

        h.Service.PeerSessionEnded("nobody");

        Assert.Empty(h.Table.Updates);
    }

    [Fact]
    public void PeerSessionStarted_Again_KeepsMappings()
    {
        using var h = new ForwardingHarness();
        var client = h.Connect(2);
        h.Map(client, MappingProtocol.Tcp, 8080);

        h.Connect(2);

        Assert.Single(h.Table.Entries);
    }

    [Fact]
    public void PeerSessionStarted_PeerAtNewAddress_OldMappingsGoAndOldAddressIsUnknown()
    {
        using var h = new ForwardingHarness();
        var old = h.Connect(2);
        h.Map(old, MappingProtocol.Tcp, 8080);

        h.Service.PeerSessionStarted(PeerId(2), TunnelAddress(7));

        Assert.Empty(h.Table.Entries);
        Assert.Equal(MapStatus.UnknownClient, h.Map(old, MappingProtocol.Tcp, 8080).Status);
        Assert.Equal(MapStatus.Success, h.Map(TunnelAddress(7), MappingProtocol.Tcp, 8080).Status);
    }

    [Fact]
    public void PeerSessionStarted_AddressTakenOverByAnotherPeer_PreviousHoldersMappingsGo()
    {
        using var h = new ForwardingHarness();
        var address = h.Connect(2);
        var hers = h.Map(address, MappingProtocol.Tcp, 8080);

        h.Service.PeerSessionStarted("p5", address);
        var his = h.Map(address, MappingProtocol.Tcp, 9000);

        var entry = Assert.Single(h.Table.Entries);
        Assert.Equal("p5", entry.Owner);
        Assert.Equal(his.ExternalPort, entry.PublicPort);
        Assert.NotEqual(hers.ExternalPort, entry.PublicPort);
    }

    [Fact]
    public void Reconnect_WithinGrace_SamePortsBack()
    {
        using var h = new ForwardingHarness();
        var client = h.Connect(2);
        var tcp = h.Map(client, MappingProtocol.Tcp, 6881);
        var udp = h.Map(client, MappingProtocol.Udp, 6881);

        h.Disconnect(2);
        h.Time.Advance(TimeSpan.FromMinutes(9));
        client = h.Connect(2);

        Assert.Equal(tcp.ExternalPort, h.Map(client, MappingProtocol.Tcp, 6881).ExternalPort);
        Assert.Equal(udp.ExternalPort, h.Map(client, MappingProtocol.Udp, 6881).ExternalPort);
    }

    [Fact]
    public void Reconnect_RememberedPortHonouredAsSuggestionOnlyWithinGrace()
    {
        // Suggestions are off by default; the peer's own remembered port is still honoured, so a PREFER_FAILURE
        // client asking for its old port gets it within the grace period and a refusal after it.
        using var h = new ForwardingHarness(new ForwardingPolicy { Quarantine = TimeSpan.Zero });
        var client = h.Connect(2);
        var first = h.Map(client, MappingProtocol.Tcp, 6881, nonce: Nonce(1));
        h.Disconnect(2);

        h.Time.Advance(TimeSpan.FromMinutes(5));
        client = h.Connect(2);
        var within = h.Map(client, MappingProtocol.Tcp, 6881, suggested: first.ExternalPort, nonce: Nonce(1), preferFailure: true);
        h.Disconnect(2);
        h.Time.Advance(TimeSpan.FromMinutes(11));
        client = h.Connect(2);
        var after = h.Map(client, MappingProtocol.Tcp, 6881, suggested: first.ExternalPort, nonce: Nonce(1), preferFailure: true);

        Assert.Equal(first.ExternalPort, within.ExternalPort);
        Assert.Equal(MapStatus.CannotProvideExternal, after.Status);
    }

    [Fact]
    public void Reconnect_RememberedPortTakenMeanwhile_GetsAnotherPort()
    {
        using var h = new ForwardingHarness(new ForwardingPolicy
        {
            PortRange = new PortRange(30000, 30001),
            Quarantine = TimeSpan.Zero,
            AllowSuggestedPort = true,
        });
        var alice = h.Connect(2);
        var hers = h.Map(alice, MappingProtocol.Tcp, 8080);
        h.Disconnect(2);
        var bob = h.Connect(3);
        h.Map(bob, MappingProtocol.Tcp, 8080, suggested: hers.ExternalPort);

        alice = h.Connect(2);
        var again = h.Map(alice, MappingProtocol.Tcp, 8080);

        Assert.Equal(MapStatus.Success, again.Status);
        Assert.NotEqual(hers.ExternalPort, again.ExternalPort);
    }

    [Fact]
    public void Quarantine_ReleasedPortWithheldFromOthersButNotFromItsOwner()
    {
        using var h = new ForwardingHarness(new ForwardingPolicy { PortRange = new PortRange(30000, 30000) });
        var alice = h.Connect(2);
        var bob = h.Connect(3);
        Assert.Equal((ushort)30000, h.Map(alice, MappingProtocol.Tcp, 8080).ExternalPort);
        h.Delete(alice, MappingProtocol.Tcp, 8080);

        var bobDuring = h.Map(bob, MappingProtocol.Tcp, 8080);
        var aliceDuring = h.Map(alice, MappingProtocol.Tcp, 9000);
        h.Delete(alice, MappingProtocol.Tcp, 9000);
        h.Time.Advance(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(1));
        var bobAfter = h.Map(bob, MappingProtocol.Tcp, 8080);

        Assert.Equal(MapStatus.NoResources, bobDuring.Status);
        Assert.Equal((ushort)30000, aliceDuring.ExternalPort);
        Assert.Equal((ushort)30000, bobAfter.ExternalPort);
    }

    [Fact]
    public void Quarantine_AfterSessionEnd_CoversBothProtocols()
    {
        // The pair is one port: alice's released TCP port is not bob's for UDP either, until the quarantine ends.
        using var h = new ForwardingHarness(new ForwardingPolicy { PortRange = new PortRange(30000, 30000) });
        var alice = h.Connect(2);
        var bob = h.Connect(3);
        h.Map(alice, MappingProtocol.Tcp, 8080);
        h.Disconnect(2);

        Assert.Equal(MapStatus.NoResources, h.Map(bob, MappingProtocol.Tcp, 8080).Status);
        Assert.Equal(MapStatus.NoResources, h.Map(bob, MappingProtocol.Udp, 8080).Status);
        h.Time.Advance(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(1));
        Assert.Equal((ushort)30000, h.Map(bob, MappingProtocol.Udp, 8080).ExternalPort);
    }
}
