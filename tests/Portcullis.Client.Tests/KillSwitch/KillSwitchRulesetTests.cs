using System.Net;
using Portcullis.Client.KillSwitch;
using Portcullis.Client.PortForwarding;
using Portcullis.PortMapping;

namespace Portcullis.Client.Tests.KillSwitch;

public sealed class KillSwitchRulesetTests
{
    private static KillSwitchSpec Spec => new()
    {
        TunnelInterface = "wg0",
        Endpoints = [IPEndPoint.Parse("198.51.100.10:51820")],
        FwMark = 51820,
    };

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    private static string[] Chain(string text, string name)
    {
        var lines = Lines(text);
        var start = Array.IndexOf(lines, $"chain {name} {{");
        Assert.True(start >= 0, $"no chain {name} in\n{text}");
        var end = Array.IndexOf(lines, "}", start);
        return lines[(start + 1)..end];
    }

    [Fact]
    public void Install_ReplacesTheTableInOneTransaction()
    {
        var lines = Lines(KillSwitchRuleset.Install(Spec));
        Assert.Equal("table inet portcullis_killswitch", lines[0]);
        Assert.Equal("delete table inet portcullis_killswitch", lines[1]);
        Assert.Equal("table inet portcullis_killswitch {", lines[2]);
    }

    [Theory]
    [InlineData("input")]
    [InlineData("output")]
    [InlineData("forward")]
    public void Install_EveryChainDropsByDefault(string chain)
    {
        var rules = Chain(KillSwitchRuleset.Install(Spec), chain);
        Assert.Equal($"type filter hook {chain} priority filter; policy drop;", rules[0]);
    }

    [Fact]
    public void Install_Output_LoopbackTunnelAndMarkedUdpToTheEndpointOnly()
    {
        var rules = Chain(KillSwitchRuleset.Install(Spec), "output");
        Assert.Equal(
        [
            "type filter hook output priority filter; policy drop;",
            "oifname \"lo\" accept",
            "oifname \"wg0\" accept",
            "meta mark 51820 ip daddr 198.51.100.10 udp dport 51820 accept",
        ], rules);
    }

    [Fact]
    public void Install_Input_EndpointRepliesOnlyWhenTracked()
    {
        var rules = Chain(KillSwitchRuleset.Install(Spec), "input");
        Assert.Contains("ip saddr 198.51.100.10 udp sport 51820 ct state established,related accept", rules);
        Assert.Contains("iifname \"wg0\" ct state established,related accept", rules);
        Assert.Contains("iifname \"lo\" accept", rules);
        Assert.DoesNotContain(rules, r => r.Contains("saddr 203.", StringComparison.Ordinal));
        Assert.DoesNotContain(rules, r => r.Contains("icmpv6", StringComparison.Ordinal));
    }

    [Fact]
    public void Install_AllowLan_LanPrefixesBothWays()
    {
        var text = KillSwitchRuleset.Install(Spec with { LanPrefixes = [IPNetwork.Parse("203.0.113.0/24"), IPNetwork.Parse("2001:db8:2::/64")] });
        Assert.Contains("ip saddr 203.0.113.0/24 accept", Chain(text, "input"));
        Assert.Contains("ip6 saddr 2001:db8:2::/64 accept", Chain(text, "input"));
        Assert.Contains("ip daddr 203.0.113.0/24 accept", Chain(text, "output"));
        Assert.Contains("ip6 daddr 2001:db8:2::/64 accept", Chain(text, "output"));
        // IPv6 on the LAN needs neighbour discovery.
        Assert.Contains(Chain(text, "output"), r => r.StartsWith("icmpv6 type", StringComparison.Ordinal));
    }

    [Fact]
    public void Install_Forward_IntoTheTunnelAndItsRepliesOnly()
    {
        var rules = Chain(KillSwitchRuleset.Install(Spec), "forward");
        Assert.Equal(
        [
            "type filter hook forward priority filter; policy drop;",
            "iifname != \"wg0\" ct direction original ct status dnat meta l4proto tcp ct original proto-dst @forwarded_tcp drop",
            "iifname != \"wg0\" ct direction original ct status dnat meta l4proto udp ct original proto-dst @forwarded_udp drop",
            "oifname \"wg0\" accept",
            "iifname \"wg0\" ct state established,related accept",
            "iifname \"wg0\" ct status dnat meta l4proto tcp ct original proto-dst @forwarded_tcp accept",
            "iifname \"wg0\" ct status dnat meta l4proto udp ct original proto-dst @forwarded_udp accept",
        ], rules);
    }

    [Fact]
    public void Install_ForwardAllowLan_LocalNetworksReachEachOtherPerFamily()
    {
        var text = KillSwitchRuleset.Install(Spec with
        {
            LanPrefixes = [IPNetwork.Parse("203.0.113.0/24"), IPNetwork.Parse("2001:db8:2::/64"), IPNetwork.Parse("172.30.0.0/24")],
        });
        var rules = Chain(text, "forward");
        Assert.Contains("ip saddr { 203.0.113.0/24, 172.30.0.0/24 } ip daddr { 203.0.113.0/24, 172.30.0.0/24 } accept", rules);
        Assert.Contains("ip6 saddr { 2001:db8:2::/64 } ip6 daddr { 2001:db8:2::/64 } accept", rules);
        Assert.DoesNotContain(rules, r => r.Contains("ip saddr 203.0.113.0/24 accept", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("output")]
    [InlineData("forward")]
    public void Install_AllowLan_DnsDroppedBeforeAnyLanAccept(string chain)
    {
        var rules = Chain(KillSwitchRuleset.Install(Spec with { LanPrefixes = [IPNetwork.Parse("203.0.113.0/24")] }), chain);
        var dns = Array.IndexOf(rules, "meta l4proto { tcp, udp } th dport { 53, 853 } drop");
        var firstLan = Array.FindIndex(rules, r => r.Contains("203.0.113.0/24", StringComparison.Ordinal));
        Assert.True(dns > 0 && firstLan > dns, string.Join('\n', rules));
        // Only the LAN allowance needs it: without one, DNS outside the tunnel falls to the policy like the rest.
        Assert.DoesNotContain("dport { 53, 853 }", KillSwitchRuleset.Install(Spec), StringComparison.Ordinal);
    }

    [Fact]
    public void Install_ForwardedPorts_AcceptedOnTheTunnelOnlyAndDroppedElsewhereBeforeTheLan()
    {
        var text = KillSwitchRuleset.Install(Spec with
        {
            LanPrefixes = [IPNetwork.Parse("203.0.113.0/24")],
            ForwardedPorts = [new ForwardedPort(ForwardProtocol.Tcp, 8080), new ForwardedPort(ForwardProtocol.Both, 6881)],
        });
        Assert.Contains("elements = { 8080, 6881 }", text, StringComparison.Ordinal);
        Assert.Contains("elements = { 6881 }", text, StringComparison.Ordinal);
        var input = Chain(text, "input");
        var dropElsewhere = Array.IndexOf(input, "iifname != \"wg0\" tcp dport @forwarded_tcp drop");
        var lan = Array.IndexOf(input, "ip saddr 203.0.113.0/24 accept");
        Assert.True(dropElsewhere > 0 && lan > dropElsewhere, string.Join('\n', input));
        Assert.Contains("iifname \"wg0\" tcp dport @forwarded_tcp accept", input);
        Assert.Contains("iifname \"wg0\" udp dport @forwarded_udp accept", input);
    }

    [Fact]
    public void Install_AnnounceSource_GatewaysAnnouncementOnTheTunnelOnly()
    {
        Assert.DoesNotContain("5350", KillSwitchRuleset.Install(Spec), StringComparison.Ordinal);
        var input = Chain(KillSwitchRuleset.Install(Spec with { AnnounceSource = IPAddress.Parse("10.99.0.1") }), "input");
        Assert.Contains("iifname \"wg0\" ip saddr 10.99.0.1 udp sport 5351 udp dport 5350 accept", input);
        Assert.Single(input, r => r.Contains("5350", StringComparison.Ordinal));
    }

    [Fact]
    public void Install_AnnounceSource6_TheIpv6KeepersAnnouncementLetInBesideTheIpv4One()
    {
        var input = Chain(KillSwitchRuleset.Install(Spec with
        {
            AnnounceSource = IPAddress.Parse("10.99.0.1"),
            AnnounceSource6 = IPAddress.Parse("fd99::1"),
        }), "input");
        Assert.Contains("iifname \"wg0\" ip saddr 10.99.0.1 udp sport 5351 udp dport 5350 accept", input);
        Assert.Contains("iifname \"wg0\" ip6 saddr fd99::1 udp sport 5351 udp dport 5350 accept", input);
        Assert.Equal(2, input.Count(r => r.Contains("5350", StringComparison.Ordinal)));
    }

    [Fact]
    public void UpdateForwardedPorts_FlushesAndFillsBothSetsInOneText()
    {
        var lines = Lines(KillSwitchRuleset.UpdateForwardedPorts(
            [new ForwardedPort(ForwardProtocol.Tcp, 40001), new ForwardedPort(ForwardProtocol.Udp, 40002), new ForwardedPort(ForwardProtocol.Both, 8080)]));
        Assert.Equal(
        [
            "flush set inet portcullis_killswitch forwarded_tcp",
            "add element inet portcullis_killswitch forwarded_tcp { 40001, 8080 }",
            "flush set inet portcullis_killswitch forwarded_udp",
            "add element inet portcullis_killswitch forwarded_udp { 40002, 8080 }",
        ], lines);
    }

    [Fact]
    public void UpdateForwardedPorts_None_BothSetsEmptied()
    {
        Assert.Equal(
            ["flush set inet portcullis_killswitch forwarded_tcp", "flush set inet portcullis_killswitch forwarded_udp"],
            Lines(KillSwitchRuleset.UpdateForwardedPorts([])));
    }

    [Fact]
    public void Install_IPv6Endpoint_Ip6RulesAndNeighbourDiscovery()
    {
        var text = KillSwitchRuleset.Install(Spec with { Endpoints = [IPEndPoint.Parse("[2001:db8::10]:51820")], FwMark = 7 });
        Assert.Contains("meta mark 7 ip6 daddr 2001:db8::10 udp dport 51820 accept", Chain(text, "output"));
        Assert.Contains("ip6 saddr 2001:db8::10 udp sport 51820 ct state established,related accept", Chain(text, "input"));
        Assert.Contains(Chain(text, "input"), r => r.StartsWith("icmpv6 type", StringComparison.Ordinal));
    }

    [Fact]
    public void Install_Dhcp_OnlyWhenAsked()
    {
        Assert.DoesNotContain("dport 67", KillSwitchRuleset.Install(Spec), StringComparison.Ordinal);
        var text = KillSwitchRuleset.Install(Spec with { AllowDhcp = true });
        Assert.Contains("udp sport 68 udp dport 67 accept", Chain(text, "output"));
        Assert.Contains("udp sport 67 udp dport 68 accept", Chain(text, "input"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("wg0\" accept")]
    [InlineData("name with space")]
    [InlineData("averyveryverylongname")]
    public void Install_BadInterfaceName_Refused(string name)
    {
        Assert.Throws<ArgumentException>(() => KillSwitchRuleset.Install(Spec with { TunnelInterface = name }));
    }

    [Fact]
    public void Install_NoEndpoint_Refused()
    {
        Assert.Throws<ArgumentException>(() => KillSwitchRuleset.Install(Spec with { Endpoints = [] }));
    }

    [Fact]
    public void Remove_AddsThenDeletesSoAMissingTableIsNoError()
    {
        Assert.Equal(["table inet portcullis_killswitch", "delete table inet portcullis_killswitch"], Lines(KillSwitchRuleset.Remove()));
    }
}
