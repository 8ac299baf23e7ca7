using System.Net;
using Portcullis.Client.Config;
using Portcullis.Client.Routing;

namespace Portcullis.Client.Tests.Routing;

public sealed class TunnelGuardRulesetTests
{
    private static RoutePlan Plan(bool full4, bool full6) => new()
    {
        Interface = "wg0",
        Mtu = 1420,
        FwMark = 51820,
        Addresses = [new InterfaceAddress(IPAddress.Parse("10.99.0.2"), 16), new InterfaceAddress(IPAddress.Parse("fd99::2"), 64)],
        FullTunnel4 = full4,
        FullTunnel6 = full6,
    };

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public void Install_SplitTunnel_None()
    {
        Assert.Null(TunnelGuardRuleset.Install(Plan(false, false)));
    }

    [Fact]
    public void Install_FullTunnelBoth_AsWgQuick()
    {
        var lines = Lines(TunnelGuardRuleset.Install(Plan(true, true))!);
        Assert.Equal("delete table inet portcullis_tunnel_wg0", lines[1]);
        Assert.Contains("iifname != \"wg0\" ip daddr 10.99.0.2 fib saddr type != local drop", lines);
        Assert.Contains("iifname != \"wg0\" ip6 daddr fd99::2 fib saddr type != local drop", lines);
        Assert.Contains("meta l4proto udp meta mark set ct mark", lines);
        Assert.Contains("meta l4proto udp meta mark 51820 ct mark set meta mark", lines);
        Assert.Contains("type filter hook prerouting priority raw;", lines);
    }

    [Fact]
    public void Install_FullTunnelIPv4Only_NoIPv6AddressGuard()
    {
        var text = TunnelGuardRuleset.Install(Plan(true, false))!;
        Assert.Contains("ip daddr 10.99.0.2", text, StringComparison.Ordinal);
        Assert.DoesNotContain("fd99::2", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("wg0", "portcullis_tunnel_wg0")]
    [InlineData("wg+home=1", "portcullis_tunnel_wg_home_1")]
    public void TableName_OnlyIdentifierCharacters(string name, string expected)
    {
        Assert.Equal(expected, TunnelGuardRuleset.TableName(name));
    }
}
