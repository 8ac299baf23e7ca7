using System.Net;
using Portcullis.Gateway.Configuration;
using Portcullis.Gateway.Forwarding;
using Portcullis.PortMapping;
using static Portcullis.Gateway.Tests.Forwarding.ForwardingHarness;

namespace Portcullis.Gateway.Tests.Forwarding;

/// <summary>PCP MAP for a peer's IPv6 tunnel address (RFC 6887 §11): the same peer, quota and session; NAT66 or routed.</summary>
public sealed class Ipv6MappingTests
{
    private static readonly IPAddress PublicAddress6 = IPAddress.Parse("2001:db8:1::10");
    private static readonly TunnelIpv6 Tunnel = new(IPNetwork.Parse("fd99::/64"), IPNetwork.Parse("10.99.0.0/16"), Routed: false);

    private static ForwardingHarness Nat66(ForwardingPolicy? policy = null) => new(policy, ipv6: new ForwardingIpv6(Tunnel, PublicAddress6));

    private static ForwardingHarness Routed() =>
        new(ipv6: new ForwardingIpv6(Tunnel with { Prefix = IPNetwork.Parse("2001:db8:99::/64"), Routed = true }, null));

    private static IPAddress Twin(int host) => IPAddress.Parse($"fd99::{host:x}");

    [Fact]
    public void Map_Nat66_MapsThePeersTwinOnThePublicIpv6Address()
    {
        using var h = Nat66();
        h.Connect(2);

        var result = h.Map(Twin(2), MappingProtocol.Tcp, 8080);

        Assert.Equal(MapStatus.Success, result.Status);
        Assert.Equal(PublicAddress6, result.ExternalAddress);
        Assert.True(new ForwardingPolicy().PortRange.Contains(result.ExternalPort));
        var entry = Assert.Single(h.Table.Entries);
        Assert.Equal(new ForwardingEntry(PublicAddress6, MappingProtocol.Tcp, result.ExternalPort, Twin(2), 8080, PeerId(2), entry.Timeout), entry);
    }

    [Fact]
    public void Map_Ipv4AndIpv6OfOnePeer_SeparateMappingsSharingTheQuota()
    {
        using var h = Nat66(new ForwardingPolicy { MaxPerPeer = 2 });
        var v4 = h.Connect(2);

        var four = h.Map(v4, MappingProtocol.Tcp, 8080);
        var six = h.Map(Twin(2), MappingProtocol.Tcp, 8080);
        var third = h.Map(Twin(2), MappingProtocol.Udp, 9090);

        Assert.Equal(PublicAddress, four.ExternalAddress);
        Assert.Equal(PublicAddress6, six.ExternalAddress);
        Assert.Equal(MapStatus.QuotaExceeded, third.Status);
        Assert.Equal(2, h.Table.Entries.Count);
        // Refreshing one family finds its own mapping, not the other's.
        Assert.Equal(six.ExternalPort, h.Map(Twin(2), MappingProtocol.Tcp, 8080).ExternalPort);
        Assert.Equal(four.ExternalPort, h.Map(v4, MappingProtocol.Tcp, 8080).ExternalPort);
        Assert.Equal(2, h.Table.Entries.Count);
    }

    [Fact]
    public void Map_Nat66_PortsOfTheIpv6AddressAreTheirOwnNamespace()
    {
        using var h = Nat66();
        var alice = h.Connect(2);
        h.Connect(3);
        var hers = h.Map(alice, MappingProtocol.Tcp, 8080);

        // Bob asks for alice's IPv4 public port on the IPv6 address: held only on the other family, so his.
        var policy = new ForwardingPolicy { AllowSuggestedPort = true };
        h.Service.UpdatePolicy(policy);
        var his = h.Map(Twin(3), MappingProtocol.Tcp, 8080, suggested: hers.ExternalPort);

        Assert.Equal(MapStatus.Success, his.Status);
        Assert.Equal(hers.ExternalPort, his.ExternalPort);
        Assert.Equal(PublicAddress6, his.ExternalAddress);
    }

    [Fact]
    public void PeerSessionEnded_RemovesBothFamiliesAndTheIpv6AddressIsUnknown()
    {
        using var h = Nat66();
        var v4 = h.Connect(2);
        h.Map(v4, MappingProtocol.Tcp, 8080);
        h.Map(Twin(2), MappingProtocol.Tcp, 8080);

        h.Disconnect(2);

        Assert.Empty(h.Table.Entries);
        Assert.Equal(MapStatus.UnknownClient, h.Map(Twin(2), MappingProtocol.Tcp, 8080).Status);
    }

    [Fact]
    public void Map_Ipv6AddressOfNoSessionOrOutsideThePrefix_UnknownClient()
    {
        using var h = Nat66();
        h.Connect(2);

        Assert.Equal(MapStatus.UnknownClient, h.Map(Twin(3), MappingProtocol.Tcp, 8080).Status);
        Assert.Equal(MapStatus.UnknownClient, h.Map(IPAddress.Parse("fd99::1:0:2"), MappingProtocol.Tcp, 8080).Status);
        Assert.Equal(MapStatus.UnknownClient, h.Map(IPAddress.Parse("fd98::2"), MappingProtocol.Tcp, 8080).Status);
        Assert.Empty(h.Table.Entries);
    }

    [Fact]
    public void Map_WithoutIpv6Configured_Ipv6ClientUnknown()
    {
        using var h = new ForwardingHarness();
        h.Connect(2);

        Assert.Equal(MapStatus.UnknownClient, h.Map(Twin(2), MappingProtocol.Tcp, 8080).Status);
    }

    [Fact]
    public void DeleteAll_FromIpv6_EndsOnlyTheIpv6Mappings()
    {
        using var h = Nat66();
        var v4 = h.Connect(2);
        h.Map(v4, MappingProtocol.Tcp, 8080);
        h.Map(Twin(2), MappingProtocol.Tcp, 8080);

        Assert.Equal(MapStatus.Success, h.Service.DeleteAll(Twin(2), MappingProtocol.Tcp).Status);

        var left = Assert.Single(h.Table.Entries);
        Assert.Equal(PublicAddress, left.PublicAddress);
    }

    [Fact]
    public void Map_Routed_PinholeOnThePeersOwnAddressAndPort()
    {
        using var h = Routed();
        h.Connect(2);
        var own = IPAddress.Parse("2001:db8:99::2");

        var result = h.Map(own, MappingProtocol.Tcp, 8080, suggested: 31000);

        Assert.Equal(MapStatus.Success, result.Status);
        Assert.Equal(own, result.ExternalAddress);
        Assert.Equal(8080, result.ExternalPort);
        var entry = Assert.Single(h.Table.Entries);
        Assert.Equal((own, own, (ushort)8080, (ushort)8080), (entry.PublicAddress, entry.TunnelAddress, entry.PublicPort, entry.InternalPort));
        // Another port can only be declined: PREFER_FAILURE fails as for IPv4.
        Assert.Equal(MapStatus.CannotProvideExternal, h.Map(own, MappingProtocol.Udp, 8080, suggested: 31000, preferFailure: true).Status);
    }

    [Fact]
    public void Map_Routed_BlockedExternalPortRefused()
    {
        using var h = Routed();
        h.Connect(2);
        h.Service.UpdatePolicy(new ForwardingPolicy { BlockedExternalPorts = new HashSet<ushort> { 25 } });

        Assert.Equal(MapStatus.NotAuthorized, h.Map(IPAddress.Parse("2001:db8:99::2"), MappingProtocol.Tcp, 25).Status);
        Assert.Empty(h.Table.Entries);
    }

    [Fact]
    public void Start_Reconcile_RemovesStaleIpv6Elements()
    {
        var table = new InMemoryForwardingTable();
        table.Seed(new ForwardingEntry(PublicAddress6, MappingProtocol.Tcp, 30000, Twin(2), 8080, "p2", null));
        using var h = new ForwardingHarness(table: table, ipv6: new ForwardingIpv6(Tunnel, PublicAddress6));

        Assert.Empty(table.Entries);
    }

    [Fact]
    public void UpdatePolicy_NarrowerRange_KeepsRoutedPinholes()
    {
        using var h = Routed();
        h.Connect(2);
        h.Map(IPAddress.Parse("2001:db8:99::2"), MappingProtocol.Tcp, 8080);

        h.Service.UpdatePolicy(new ForwardingPolicy { PortRange = new PortRange(40000, 40100) });

        Assert.Single(h.Table.Entries);
    }

    [Fact]
    public void StaticForward_Nat66_LiveAtThePeersIpv6AddressWhileConnected()
    {
        using var h = Nat66();
        h.Service.AddStaticForward(new StaticForwardRule(PublicAddress6, MappingProtocol.Tcp, 30000, PeerId(2), 8080));
        Assert.Empty(h.Table.Entries);

        h.Connect(2);

        var entry = Assert.Single(h.Table.Entries);
        Assert.Equal((PublicAddress6, (ushort)30000, Twin(2), (ushort)8080), (entry.PublicAddress, entry.PublicPort, entry.TunnelAddress, entry.InternalPort));
        // Its port is taken on the IPv6 address: another peer asking for it there gets another.
        h.Connect(3);
        h.Service.UpdatePolicy(new ForwardingPolicy { AllowSuggestedPort = true });
        Assert.NotEqual(30000, h.Map(Twin(3), MappingProtocol.Tcp, 8080, suggested: 30000).ExternalPort);

        h.Disconnect(2);
        Assert.DoesNotContain(h.Table.Entries, e => e.PublicPort == 30000);
    }

    [Fact]
    public void StaticForward_Routed_OnlyThePeersOwnAddressAndPortGoLive()
    {
        using var h = Routed();
        var own = IPAddress.Parse("2001:db8:99::2");
        h.Service.SetStaticForwards([
            new StaticForwardRule(own, MappingProtocol.Tcp, 8080, PeerId(2), 8080),
            new StaticForwardRule(own, MappingProtocol.Tcp, 30000, PeerId(2), 8081), // would need translation
            new StaticForwardRule(IPAddress.Parse("2001:db8:99::3"), MappingProtocol.Tcp, 8080, PeerId(2), 8080), // not its address
        ]);

        h.Connect(2);

        var entry = Assert.Single(h.Table.Entries);
        Assert.Equal((own, (ushort)8080, own, (ushort)8080), (entry.PublicAddress, entry.PublicPort, entry.TunnelAddress, entry.InternalPort));
    }

    [Fact]
    public void StaticForward_Ipv6WithoutIpv6Inbound_StaysDark()
    {
        using var h = new ForwardingHarness();
        h.Service.AddStaticForward(new StaticForwardRule(PublicAddress6, MappingProtocol.Tcp, 30000, PeerId(2), 8080));

        h.Connect(2);

        Assert.Empty(h.Table.Entries);
    }
}
