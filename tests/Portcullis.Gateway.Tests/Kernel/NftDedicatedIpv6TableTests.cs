using System.Net;
using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Kernel;
using Portcullis.Gateway.Tests.Kernel.Support;
using static Portcullis.Gateway.Tests.Kernel.Support.Entries;

namespace Portcullis.Gateway.Tests.Kernel;

/// <summary>IPv6 dedicated routes in table ip6 portcullis (NAT66): the rules, and the real kernel taking and listing them.</summary>
public sealed class NftDedicatedIpv6TableTests
{
    private static readonly IPAddress Dedicated6 = IPAddress.Parse("2001:db8:1::11");
    private static readonly IPAddress Dedicated6b = IPAddress.Parse("2001:db8:1::12");
    private static readonly IPAddress Twin1 = IPAddress.Parse("fd99::2");
    private static readonly IPAddress Twin2 = IPAddress.Parse("fd99::3");
    private static readonly HashSet<ushort> Blocked = [25, 445];

    private static readonly GatewayNetwork6 Nat66 = new()
    {
        TunnelPrefix = IPNetwork.Parse("fd99::/64"),
        GatewayTunnelAddress = IPAddress.Parse("fd99::1"),
        PublicAddresses = [IPAddress.Parse("2001:db8:1::a")],
    };

    [Fact]
    public void Install_Nat66_DedicatedEgressBeforeTheSharedSnatAndEveryPortAfterTheMappings()
    {
        var script = NftIpv6Script.Install(Network() with { Ipv6 = Nat66 });

        var egress = script.IndexOf("ip6 saddr fd99::/64 snat ip6 to ip6 saddr map @egress", StringComparison.Ordinal);
        var shared = script.IndexOf("ip6 saddr fd99::/64 snat to 2001:db8:1::a", StringComparison.Ordinal);
        var mappings = script.IndexOf("add rule ip6 portcullis prerouting", StringComparison.Ordinal);
        var everyPort = script.IndexOf("dnat ip6 to ip6 daddr map @dedicated", StringComparison.Ordinal);
        Assert.True(egress >= 0 && egress < shared, script);
        Assert.True(mappings >= 0 && mappings < everyPort, script);
        Assert.Contains("add rule ip6 portcullis forward ct status snat ct reply ip6 daddr @dedicated_addresses", script, StringComparison.Ordinal);
    }

    [Fact]
    public void SetDedicated_BothFamilies_EachInItsTableAndListReadsThemBack()
    {
        using var ns = new TestNamespace("pcgk-d6");
        using var table = ns.Run(() => new NftForwardingTable());
        table.Install(Network() with { Ipv6 = Nat66 });
        DedicatedRoute[] routes =
        [
            new(Dedicated, Client1, ForwardAllPorts: true),
            new(Dedicated6, Twin1, ForwardAllPorts: true),
            new(Dedicated6b, Twin2, ForwardAllPorts: false),
        ];

        table.SetDedicated(routes, Blocked);

        var ruleset = ns.Ruleset();
        var ip6 = ruleset[ruleset.IndexOf("table ip6 portcullis", StringComparison.Ordinal)..];
        Assert.Contains("fd99::2 : 2001:db8:1::11", ip6, StringComparison.Ordinal);
        Assert.Contains("2001:db8:1::11 : fd99::2", ip6, StringComparison.Ordinal);
        Assert.Contains("fd99::3 : 2001:db8:1::12", ip6, StringComparison.Ordinal);
        Assert.DoesNotContain("2001:db8:1::12 : fd99::3", ip6, StringComparison.Ordinal);
        Assert.DoesNotContain("198.51.100.11", ip6, StringComparison.Ordinal);
        Assert.Equal(routes.OrderBy(r => r.PublicAddress.ToString()), table.ListDedicated().OrderBy(r => r.PublicAddress.ToString()));

        table.SetDedicated([new(Dedicated, Client1, false)], Blocked);

        Assert.Equal([new DedicatedRoute(Dedicated, Client1, false)], table.ListDedicated());
    }

    [Fact]
    public void SetDedicated_Ipv6WithoutNat66_RefusedAndNothingChanges()
    {
        using var ns = new TestNamespace("pcgk-d6");
        using var table = ns.Run(() => new NftForwardingTable());
        var routed = new GatewayNetwork6 { TunnelPrefix = IPNetwork.Parse("2001:db8:99::/64"), GatewayTunnelAddress = IPAddress.Parse("2001:db8:99::1") };
        table.Install(Network() with { Ipv6 = routed });
        table.SetDedicated([new(Dedicated, Client1, false)], Blocked);

        var e = Assert.Throws<ArgumentException>(() => table.SetDedicated([new(Dedicated6, IPAddress.Parse("2001:db8:99::2"), false)], Blocked));

        Assert.Contains("NAT66", e.Message, StringComparison.Ordinal);
        Assert.Equal([new DedicatedRoute(Dedicated, Client1, false)], table.ListDedicated());
    }

    [Theory]
    [InlineData("2001:db8:1::a", "fd99::2", "shared public address")]
    [InlineData("2001:db8:1::11", "fd99::1", "not a client address")]
    [InlineData("2001:db8:1::11", "10.99.0.2", "must be an IPv6 address")]
    public void Check_BadIpv6Route_RefusedWithTheReason(string publicAddress, string tunnel, string reason)
    {
        var e = Assert.Throws<ArgumentException>(() => ForwardingValidation.Check(
            [new DedicatedRoute(IPAddress.Parse(publicAddress), IPAddress.Parse(tunnel), false)], Blocked, Network() with { Ipv6 = Nat66 }));

        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }
}
