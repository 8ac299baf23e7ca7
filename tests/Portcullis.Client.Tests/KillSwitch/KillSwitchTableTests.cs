using System.Net;
using Portcullis.Client.KillSwitch;
using Portcullis.Client.PortForwarding;
using Portcullis.Linux.Nftables;
using Portcullis.PortMapping;

namespace Portcullis.Client.Tests.KillSwitch;

/// <summary>The generated ruleset in a real kernel (a fresh network namespace): accepted, replaced atomically, removed.</summary>
public sealed class KillSwitchTableTests
{
    private static KillSwitchSpec Spec(string endpoint) => new()
    {
        TunnelInterface = "wg0",
        Endpoints = [IPEndPoint.Parse(endpoint)],
        FwMark = 51820,
        LanPrefixes = [IPNetwork.Parse("203.0.113.0/24"), IPNetwork.Parse("2001:db8:2::/64")],
        AllowDhcp = true,
        ForwardedPorts = [new ForwardedPort(ForwardProtocol.Both, 6881)],
    };

    [Fact]
    public void Install_InKernel_AcceptedAndReplacedAndRemoved()
    {
        using var ns = new TestNamespace("pcct");
        ns.Run(() =>
        {
            Assert.False(KillSwitchTable.IsInstalled());
            KillSwitchTable.Install(Spec("198.51.100.10:51820"));
            Assert.True(KillSwitchTable.IsInstalled());
            KillSwitchTable.Install(Spec("[2001:db8:1::a]:51821"));
        });
        var table = ns.Exec("nft", "list", "table", "inet", "portcullis_killswitch");
        Assert.Contains("ip6 daddr 2001:db8:1::a udp dport 51821 accept", table, StringComparison.Ordinal);
        Assert.DoesNotContain("198.51.100.10", table, StringComparison.Ordinal);
        Assert.Contains("type filter hook forward priority filter; policy drop;", table, StringComparison.Ordinal);
        Assert.Contains("meta l4proto { tcp, udp } th dport { 53, 853 } drop", table, StringComparison.Ordinal);

        ns.Run(() =>
        {
            Assert.True(KillSwitchTable.Remove());
            Assert.False(KillSwitchTable.IsInstalled());
            Assert.False(KillSwitchTable.Remove());
        });
    }

    [Fact]
    public void Install_FailingTransaction_PreviousKillSwitchHolds()
    {
        using var ns = new TestNamespace("pcct");
        ns.Run(() => KillSwitchTable.Install(Spec("198.51.100.10:51820")));
        var before = ns.Exec("nft", "list", "table", "inet", "portcullis_killswitch");

        // The same replacement text with one bad command at the end: the whole transaction must be refused.
        var broken = KillSwitchRuleset.Install(Spec("192.0.2.1:1")) + "add rule inet portcullis_killswitch nosuchchain accept\n";
        Assert.Throws<NftException>(() => ns.Run(() =>
        {
            using var nft = new NftContext();
            nft.Run(broken);
        }));

        Assert.Equal(before, ns.Exec("nft", "list", "table", "inet", "portcullis_killswitch"));
    }

    [Fact]
    public void UpdateForwardedPorts_InKernel_SetsReplacedRulesKept()
    {
        using var ns = new TestNamespace("pcct");
        ns.Run(() => KillSwitchTable.Install(Spec("198.51.100.10:51820") with { AnnounceSource = IPAddress.Parse("10.99.0.1") }));
        var rulesBefore = Rules(ns.Exec("nft", "list", "table", "inet", "portcullis_killswitch"));

        ns.Run(() => KillSwitchTable.UpdateForwardedPorts([new ForwardedPort(ForwardProtocol.Tcp, 40001), new ForwardedPort(ForwardProtocol.Udp, 40002)]));

        var table = ns.Exec("nft", "list", "table", "inet", "portcullis_killswitch");
        Assert.Contains("elements = { 40001 }", ns.Exec("nft", "list", "set", "inet", "portcullis_killswitch", "forwarded_tcp"), StringComparison.Ordinal);
        Assert.Contains("elements = { 40002 }", ns.Exec("nft", "list", "set", "inet", "portcullis_killswitch", "forwarded_udp"), StringComparison.Ordinal);
        Assert.DoesNotContain("6881", table, StringComparison.Ordinal);
        Assert.Equal(rulesBefore, Rules(table));
        Assert.Contains("ip saddr 10.99.0.1 udp sport 5351 udp dport 5350 accept", table, StringComparison.Ordinal);
    }

    [Fact]
    public void UpdateForwardedPorts_NoKillSwitch_ThrowsAndCreatesNothing()
    {
        using var ns = new TestNamespace("pcct");
        Assert.Throws<NftException>(() => ns.Run(() => KillSwitchTable.UpdateForwardedPorts([new ForwardedPort(ForwardProtocol.Tcp, 40001)])));
        Assert.Equal(string.Empty, ns.Exec("nft", "list", "tables").Trim());
    }

    /// <summary>The table's rule lines (everything but the set definitions).</summary>
    private static string[] Rules(string table) =>
        table.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Where(l => l.Contains("accept", StringComparison.Ordinal) || l.Contains("drop", StringComparison.Ordinal))
            .ToArray();
}
