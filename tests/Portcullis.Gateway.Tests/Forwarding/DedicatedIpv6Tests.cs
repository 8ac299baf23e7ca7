using System.Net;
using Portcullis.Gateway.Configuration;
using Portcullis.Gateway.Forwarding;
using Portcullis.PortMapping;
using static Portcullis.Gateway.Tests.Forwarding.ForwardingHarness;

namespace Portcullis.Gateway.Tests.Forwarding;

/// <summary>IPv6 dedicated addresses (NAT66 only) in DedicatedRoutes, through the forwarding service's front.</summary>
public sealed class DedicatedIpv6Tests
{
    private static readonly IPAddress Shared6 = IPAddress.Parse("2001:db8:1::10");
    private static readonly IPAddress Dedicated6 = IPAddress.Parse("2001:db8:1::11");
    private static readonly IPAddress Dedicated6b = IPAddress.Parse("2001:db8:1::12");
    private static readonly IPAddress Dedicated4 = IPAddress.Parse("198.51.100.11");
    private static readonly TunnelIpv6 Tunnel = new(IPNetwork.Parse("fd99::/64"), IPNetwork.Parse("10.99.0.0/16"), Routed: false);
    private static readonly ForwardingPolicy AllPorts = new() { ForwardAllDedicatedPorts = true };

    private static ForwardingHarness Nat66(ForwardingPolicy? policy = null) => new(policy, ipv6: new ForwardingIpv6(Tunnel, Shared6));

    private static IPAddress Twin(int host) => IPAddress.Parse($"fd99::{host:x}");

    private static DedicatedAssignment Own6(int host, IPAddress address) => new(PeerId(host), Twin(host), address);

    private static DedicatedAssignment Own4(int host, IPAddress address) => new(PeerId(host), TunnelAddress(host), address);

    [Fact]
    public void SetDedicatedAddresses_Ipv6_EgressRouteFromTheTwinBeforeAnySession()
    {
        using var h = Nat66();

        h.Service.SetDedicatedAddresses([Own6(2, Dedicated6)]);

        Assert.Equal([new DedicatedRoute(Dedicated6, Twin(2), ForwardAllPorts: false, "p2")], h.Table.Dedicated);
        Assert.Equal([Own6(2, Dedicated6)], h.Service.DedicatedAddresses);
    }

    [Fact]
    public void Map_Ipv6DedicatedPeer_Ipv6MappingsOnItsAddressIpv4OnTheShared()
    {
        using var h = Nat66();
        h.Service.SetDedicatedAddresses([Own6(2, Dedicated6)]);
        var v4 = h.Connect(2);

        var six = h.Map(Twin(2), MappingProtocol.Tcp, 8080);
        var four = h.Map(v4, MappingProtocol.Tcp, 8080);

        Assert.Equal(Dedicated6, six.ExternalAddress);
        Assert.Equal(Dedicated6, h.Service.GetPublicAddress(Twin(2)).ExternalAddress);
        Assert.Equal(PublicAddress, four.ExternalAddress);
        Assert.Contains(h.Table.Entries, e => e.PublicAddress.Equals(Dedicated6) && e.TunnelAddress.Equals(Twin(2)));
    }

    [Fact]
    public void Map_OtherPeer_Ipv6StaysOnTheSharedAddress()
    {
        using var h = Nat66();
        h.Service.SetDedicatedAddresses([Own6(2, Dedicated6)]);
        h.Connect(3);

        Assert.Equal(Shared6, h.Map(Twin(3), MappingProtocol.Tcp, 8080).ExternalAddress);
    }

    [Fact]
    public void SetDedicatedAddresses_BothFamiliesForOnePeer_TwoRoutes()
    {
        using var h = Nat66(AllPorts);
        h.Connect(2);

        h.Service.SetDedicatedAddresses([Own4(2, Dedicated4), Own6(2, Dedicated6)]);

        Assert.Equal(2, h.Table.Dedicated.Count);
        Assert.Contains(new DedicatedRoute(Dedicated4, TunnelAddress(2), true, "p2"), h.Table.Dedicated);
        Assert.Contains(new DedicatedRoute(Dedicated6, Twin(2), true, "p2"), h.Table.Dedicated);
    }

    [Fact]
    public void ForwardAllPorts_Ipv6_OnlyWhileTheSessionIsLive()
    {
        using var h = Nat66(AllPorts);
        h.Service.SetDedicatedAddresses([Own6(2, Dedicated6)]);
        Assert.False(Assert.Single(h.Table.Dedicated).ForwardAllPorts);

        h.Connect(2);
        Assert.True(Assert.Single(h.Table.Dedicated).ForwardAllPorts);

        h.Disconnect(2);
        Assert.Equal([new DedicatedRoute(Dedicated6, Twin(2), false, "p2")], h.Table.Dedicated);
    }

    [Fact]
    public void SetDedicatedAddresses_Ipv6Moved_OldIpv6MappingsGoNewOnesOnTheNewAddress()
    {
        using var h = Nat66();
        h.Service.SetDedicatedAddresses([Own6(2, Dedicated6)]);
        h.Connect(2);
        Assert.Equal(Dedicated6, h.Map(Twin(2), MappingProtocol.Tcp, 8080).ExternalAddress);

        h.Service.SetDedicatedAddresses([Own6(2, Dedicated6b)]);

        Assert.DoesNotContain(h.Table.Entries, e => e.PublicAddress.Equals(Dedicated6));
        Assert.Equal(Dedicated6b, h.Map(Twin(2), MappingProtocol.Tcp, 8080).ExternalAddress);
    }

    [Theory]
    [InlineData("2001:db8:1::10", 2, "shared public address")] // the shared IPv6 address
    [InlineData("2001:db8:1::11", 3, "dedicated to two peers")] // given twice
    [InlineData("fe80::1", 3, "not a global unicast")]
    public void SetDedicatedAddresses_BadIpv6_ThrowsWithTheReasonAndChangesNothing(string address, int host, string reason)
    {
        using var h = Nat66();
        h.Service.SetDedicatedAddresses([Own6(2, Dedicated6)]);
        var kernel = h.Table.Dedicated;
        var assignments = host == 2 ? [Own6(2, IPAddress.Parse(address))] : new[] { Own6(2, Dedicated6), Own6(host, IPAddress.Parse(address)) };

        var e = Assert.Throws<ArgumentException>(() => h.Service.SetDedicatedAddresses(assignments));

        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
        Assert.Equal(kernel, h.Table.Dedicated);
        Assert.Equal([Own6(2, Dedicated6)], h.Service.DedicatedAddresses);
    }

    [Fact]
    public void SetDedicatedAddresses_Ipv6InRoutedMode_RefusedWithTheReason()
    {
        using var h = new ForwardingHarness(ipv6: new ForwardingIpv6(Tunnel with { Prefix = IPNetwork.Parse("2001:db8:99::/64"), Routed = true }, null));

        var e = Assert.Throws<ArgumentException>(() => h.Service.SetDedicatedAddresses([new(PeerId(2), IPAddress.Parse("2001:db8:99::2"), Dedicated6)]));

        Assert.Contains("routed IPv6 prefix", e.Message, StringComparison.Ordinal);
        Assert.Empty(h.Table.Dedicated);
    }

    [Fact]
    public void SetDedicatedAddresses_Ipv6WithoutIpv6InTheTunnel_Refused()
    {
        using var h = new ForwardingHarness();

        var e = Assert.Throws<ArgumentException>(() => h.Service.SetDedicatedAddresses([Own6(2, Dedicated6)]));

        Assert.Contains("NAT66", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SetDedicatedAddresses_MixedFamilies_Refused()
    {
        using var h = Nat66();

        Assert.Throws<ArgumentException>(() => h.Service.SetDedicatedAddresses([new(PeerId(2), TunnelAddress(2), Dedicated6)]));
        Assert.Throws<ArgumentException>(() => h.Service.SetDedicatedAddresses([new(PeerId(2), Twin(2), Dedicated4)]));
        Assert.Throws<ArgumentException>(() => h.Service.SetDedicatedAddresses([Own6(2, Dedicated6), Own6(2, Dedicated6b)]));
    }

    [Fact]
    public void Sync_KernelRefusesIpv6Route_RetriedUntilItTakesIt()
    {
        using var h = Nat66(AllPorts);
        h.Service.SetDedicatedAddresses([Own6(2, Dedicated6)]);
        h.Table.FailNext = 1;

        h.Connect(2);
        Assert.False(Assert.Single(h.Table.Dedicated).ForwardAllPorts);

        h.Time.Advance(LeaseExpiry.RemovalRetryInterval);
        Assert.True(Assert.Single(h.Table.Dedicated).ForwardAllPorts);
    }
}
