using System.Net;
using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Kernel;
using Portcullis.Gateway.Tests.Kernel.Support;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Tests.Kernel;

/// <summary>Table ip6 portcullis: its text, and that the real kernel takes it (a namespace of its own per test).</summary>
public sealed class NftIpv6TableTests
{
    private static readonly GatewayNetwork6 Nat66 = new()
    {
        TunnelPrefix = IPNetwork.Parse("fd99::/64"),
        GatewayTunnelAddress = IPAddress.Parse("fd99::1"),
        PublicAddresses = [IPAddress.Parse("2001:db8:1::a")],
    };

    private static readonly GatewayNetwork6 Routed = new()
    {
        TunnelPrefix = IPNetwork.Parse("2001:db8:99::/64"),
        GatewayTunnelAddress = IPAddress.Parse("2001:db8:99::1"),
    };

    [Fact]
    public void Install_Nat66_SnatsToPublicAddressAndClosesTheTunnelPrefixToOutside()
    {
        var script = NftIpv6Script.Install(Entries.Network() with { Ipv6 = Nat66 });

        Assert.Contains("add rule ip6 portcullis postrouting oifname \"eth0\" ip6 saddr fd99::/64 snat to 2001:db8:1::a\n", script, StringComparison.Ordinal);
        Assert.Contains("add rule ip6 portcullis guard iifname != { \"pc0\", \"lo\" } ip6 saddr fd99::/64 drop", script, StringComparison.Ordinal);
        Assert.Contains("add rule ip6 portcullis guard iifname != { \"pc0\", \"lo\" } ip6 daddr fd99::/64 drop", script, StringComparison.Ordinal);
        Assert.Contains("add rule ip6 portcullis forward iifname \"pc0\" oifname \"pc0\" drop", script, StringComparison.Ordinal);
        Assert.Contains("add rule ip6 portcullis forward oifname \"pc0\" drop", script, StringComparison.Ordinal);
    }

    [Fact]
    public void Install_Routed_NoNatAndOnlyTheGatewaysOwnAddressClosedInTheGuard()
    {
        var script = NftIpv6Script.Install(Entries.Network() with { Ipv6 = Routed });

        Assert.DoesNotContain("snat", script, StringComparison.Ordinal);
        Assert.Contains("guard iifname != { \"pc0\", \"lo\" } ip6 saddr 2001:db8:99::/64 drop", script, StringComparison.Ordinal);
        Assert.Contains("guard iifname != { \"pc0\", \"lo\" } ip6 daddr 2001:db8:99::1/128 drop", script, StringComparison.Ordinal);
        Assert.DoesNotContain("ip6 daddr 2001:db8:99::/64 drop", script, StringComparison.Ordinal);
        // Unsolicited inbound to a peer's /128 ends in the forward chain, as IPv4's does.
        Assert.Contains("add rule ip6 portcullis forward oifname \"pc0\" drop", script, StringComparison.Ordinal);
    }

    [Fact]
    public void Install_NoIpv6_RemovesTheTable()
    {
        Assert.Equal("add table ip6 portcullis\ndelete table ip6 portcullis\n", NftIpv6Script.Install(Entries.Network()));
    }

    [Fact]
    public void Install_AllowedDestination_ExemptFromTheNonPublicDrop()
    {
        var script = NftIpv6Script.Install(Entries.Network() with { Ipv6 = Nat66 with { AllowedDestinations = [IPNetwork.Parse("fd00:20::/48")] } });

        Assert.Contains("fc00::/7, fe80::/10, fec0::/10, ff00::/8 } ip6 daddr != { fd00:20::/48 } drop", script, StringComparison.Ordinal);
    }

    [Fact]
    public void Install_Kernel_BothFamiliesThenIpv4OnlyRemovesTheIpv6Table()
    {
        using var ns = new TestNamespace("pcgk-ip6");
        using var table = ns.Run(() => new NftForwardingTable());

        table.Install(Entries.Network() with { Ipv6 = Nat66 });
        var ruleset = ns.Ruleset();
        Assert.Contains("table ip portcullis", ruleset, StringComparison.Ordinal);
        Assert.Contains("table ip6 portcullis", ruleset, StringComparison.Ordinal);
        Assert.Contains("snat to 2001:db8:1::a", ruleset, StringComparison.Ordinal);

        table.Install(Entries.Network());
        ruleset = ns.Ruleset();
        Assert.Contains("table ip portcullis", ruleset, StringComparison.Ordinal);
        Assert.DoesNotContain("table ip6 portcullis", ruleset, StringComparison.Ordinal);
    }

    [Fact]
    public void Uninstall_Kernel_RemovesBothTables()
    {
        using var ns = new TestNamespace("pcgk-ip6");
        using var table = ns.Run(() => new NftForwardingTable());
        table.Install(Entries.Network() with { Ipv6 = Routed });

        table.Uninstall();

        Assert.DoesNotContain("portcullis", ns.Ruleset(), StringComparison.Ordinal);
    }

    private static readonly IPAddress Public6 = IPAddress.Parse("2001:db8:1::a");
    private static readonly IPAddress Peer6 = IPAddress.Parse("fd99::2");

    [Fact]
    public void Install_Nat66_DnatsLeasedKeysFromPublicAndTunnelAndAdmitsDnatedFlowsBeforeIsolation()
    {
        var script = NftIpv6Script.Install(Entries.Network() with { Ipv6 = Nat66 });

        Assert.Contains("add map ip6 portcullis mappings { type ipv6_addr . inet_proto . inet_service : ipv6_addr . inet_service; }", script, StringComparison.Ordinal);
        Assert.Contains("add rule ip6 portcullis prerouting iifname { \"eth0\", \"pc0\" } meta l4proto { tcp, udp } ip6 daddr . meta l4proto . th dport @leases dnat ip6 to ip6 daddr . meta l4proto . th dport map @mappings", script, StringComparison.Ordinal);
        Assert.Contains("add rule ip6 portcullis postrouting oifname \"pc0\" ip6 saddr fd99::/64 ct status dnat masquerade", script, StringComparison.Ordinal);
        Assert.Contains("add rule ip6 portcullis input iifname \"pc0\" ip6 daddr fd99::1 udp dport 5351 accept", script, StringComparison.Ordinal);
        var admit = script.IndexOf("forward oifname \"pc0\" ct status dnat accept", StringComparison.Ordinal);
        Assert.InRange(admit, 0, script.IndexOf("forward iifname \"pc0\" oifname \"pc0\" drop", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Install_GatewaysOwnPortsKept_FirstInPrerouting_OnEveryLocalAddress(bool routed)
    {
        var script = NftIpv6Script.Install(Entries.Network() with { Ipv6 = routed ? Routed : Nat66 });

        const string own = "add rule ip6 portcullis prerouting iifname { \"eth0\", \"pc0\" } meta l4proto { tcp, udp } fib daddr type local socket transparent 0 accept\n";
        var keep = script.IndexOf(own, StringComparison.Ordinal);
        // The first prerouting rule (so ahead of the filters' drop, the mappings' DNAT and every-port), for any local address.
        Assert.Equal(keep, script.IndexOf("add rule ip6 portcullis prerouting", StringComparison.Ordinal));
        Assert.True(keep >= 0, script);
        // One rule for every address: the dedicated addresses need none of their own after the DNAT.
        Assert.Single(script.Split('\n'), line => line.Contains("socket transparent", StringComparison.Ordinal));
    }

    [Fact]
    public void Install_Routed_PinholesAdmitTheirKeyUntranslated()
    {
        var script = NftIpv6Script.Install(Entries.Network() with { Ipv6 = Routed });

        Assert.DoesNotContain("dnat ip6", script, StringComparison.Ordinal);
        var admit = script.IndexOf("forward oifname \"pc0\" ip6 daddr . meta l4proto . th dport @leases accept", StringComparison.Ordinal);
        Assert.InRange(admit, 0, script.IndexOf("forward oifname \"pc0\" drop", StringComparison.Ordinal));
    }

    [Fact]
    public void Update_Kernel_BothFamiliesInOneCallEachInItsTable_ListedBackAndRemoved()
    {
        using var ns = new TestNamespace("pcgk-ip6");
        using var table = ns.Run(() => new NftForwardingTable());
        table.Install(Entries.Network() with { Ipv6 = Nat66 });
        var four = Entries.Tcp(30000, Entries.Client1, 8080, "p2", TimeSpan.FromHours(1));
        var six = new ForwardingEntry(Public6, MappingProtocol.Tcp, 30000, Peer6, 8080, "p2", TimeSpan.FromHours(1));

        table.Update([], [four, six]);

        Assert.Contains("2001:db8:1::a . tcp . 30000 : fd99::2 . 8080", ns.Ruleset(), StringComparison.Ordinal);
        var listed = table.List();
        Assert.Equal(2, listed.Count);
        var listedSix = Assert.Single(listed, e => e.PublicAddress.Equals(Public6));
        Assert.Equal((Peer6, (ushort)8080, "p2"), (listedSix.TunnelAddress, listedSix.InternalPort, listedSix.Owner));

        table.Update([six], []);

        Assert.Equal(Entries.Public, Assert.Single(table.List()).PublicAddress);
        Assert.DoesNotContain("fd99::2 . 8080", ns.Ruleset(), StringComparison.Ordinal);
    }

    [Fact]
    public void Update_Kernel_Ipv6EntryWithoutIpv6_RefusedAndNothingWritten()
    {
        using var ns = new TestNamespace("pcgk-ip6");
        using var table = ns.Run(() => new NftForwardingTable());
        table.Install(Entries.Network());

        Assert.Throws<ArgumentException>(() => table.Update([], [new ForwardingEntry(Public6, MappingProtocol.Tcp, 30000, Peer6, 8080, "p2", null)]));
        Assert.Empty(table.List());
    }
}
