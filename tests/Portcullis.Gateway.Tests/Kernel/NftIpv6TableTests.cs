using System.Net;
using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Kernel;
using Portcullis.Gateway.Tests.Kernel.Support;

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
}
