using System.Net;
using System.Net.Sockets;
using Portcullis.Client.Config;
using Portcullis.Client.Routing;
using Portcullis.Linux.Links;

namespace Portcullis.Client.Tests.Routing;

public sealed class RoutePlannerTests
{
    private static readonly string Key = Convert.ToBase64String(new byte[32]);

    private static WgQuickConfig Config(string allowedIps, string interfaceExtra = "", string secondPeer = "") =>
        WgQuickConfigParser.Parse($"""
            [Interface]
            PrivateKey = {Key}
            Address = 10.99.0.2/16, fd00:99::2/64
            {interfaceExtra}
            [Peer]
            PublicKey = {Convert.ToBase64String(Enumerable.Repeat((byte)1, 32).ToArray())}
            Endpoint = 198.51.100.10:51820
            AllowedIPs = {allowedIps}
            {secondPeer}
            """, "wg0.conf");

    [Fact]
    public void Plan_FullTunnelBothFamilies_DefaultRoutesInTable51820AndWgQuickRules()
    {
        using var config = Config("0.0.0.0/0, ::/0");
        var plan = RoutePlanner.Plan(config, "wg0");

        Assert.True(plan.FullTunnel4);
        Assert.True(plan.FullTunnel6);
        Assert.True(plan.SetSourceValidMark);
        Assert.Equal(51820u, plan.FwMark);
        Assert.Equal(1420, plan.Mtu);
        Assert.Equal([new PlannedRoute(IPNetwork.Parse("0.0.0.0/0"), 51820), new PlannedRoute(IPNetwork.Parse("::/0"), 51820)], plan.Routes);
        Assert.Equal(
        [
            new RoutingRule { Family = AddressFamily.InterNetwork, Not = true, FwMark = 51820, Table = 51820 },
            new RoutingRule { Family = AddressFamily.InterNetwork, Table = 254, SuppressPrefixLength = 0 },
            new RoutingRule { Family = AddressFamily.InterNetworkV6, Not = true, FwMark = 51820, Table = 51820 },
            new RoutingRule { Family = AddressFamily.InterNetworkV6, Table = 254, SuppressPrefixLength = 0 },
        ], plan.Rules);
    }

    [Fact]
    public void Plan_FullTunnel_NoHostRouteToTheEndpoint()
    {
        // Port Fail: a route for the endpoint outside the tunnel would carry unmarked traffic to the gateway around it.
        using var config = Config("0.0.0.0/0");
        var plan = RoutePlanner.Plan(config, "wg0");
        Assert.DoesNotContain(plan.Routes, r => r.Destination.Contains(IPAddress.Parse("198.51.100.10")) && r.Destination.PrefixLength > 0);
        Assert.All(plan.Routes, r => Assert.Equal(51820, r.Table));
    }

    [Fact]
    public void Plan_FullTunnelIPv4Only_NoIPv6RulesNorRoutes()
    {
        using var config = Config("0.0.0.0/0");
        var plan = RoutePlanner.Plan(config, "wg0");
        Assert.True(plan.FullTunnel4);
        Assert.False(plan.FullTunnel6);
        Assert.All(plan.Rules, r => Assert.Equal(AddressFamily.InterNetwork, r.Family));
        Assert.Single(plan.Routes);
    }

    [Fact]
    public void Plan_SplitTunnel_MainTableRoutesLongestFirstNoRules()
    {
        using var config = Config("10.0.0.0/8, 192.168.7.0/24, 2001:db8::/32, 10.0.0.0/8");
        var plan = RoutePlanner.Plan(config, "wg0");
        Assert.False(plan.FullTunnel4 || plan.FullTunnel6 || plan.SetSourceValidMark);
        Assert.Empty(plan.Rules);
        Assert.Equal(["2001:db8::/32 table 254", "192.168.7.0/24 table 254", "10.0.0.0/8 table 254"], plan.Routes.Select(r => r.ToString()));
    }

    [Fact]
    public void Plan_TwoPeers_PrefixesOfBoth()
    {
        using var config = Config("10.1.0.0/16", secondPeer: $"[Peer]\nPublicKey = {Convert.ToBase64String(Enumerable.Repeat((byte)2, 32).ToArray())}\nEndpoint = 198.51.100.11:51820\nAllowedIPs = 10.2.0.0/16");
        var plan = RoutePlanner.Plan(config, "wg0");
        Assert.Equal(["10.1.0.0/16", "10.2.0.0/16"], plan.Routes.Select(r => r.Destination.ToString()));
    }

    [Fact]
    public void Plan_ExplicitTable_EveryPrefixThereAndNoRules()
    {
        using var config = Config("0.0.0.0/0, 10.0.0.0/8", "Table = 1234");
        var plan = RoutePlanner.Plan(config, "wg0");
        Assert.Empty(plan.Rules);
        Assert.All(plan.Routes, r => Assert.Equal(1234, r.Table));
        Assert.Equal(2, plan.Routes.Count);
    }

    [Fact]
    public void Plan_TableOff_NoRoutesNoRulesButAddresses()
    {
        using var config = Config("0.0.0.0/0", "Table = off");
        var plan = RoutePlanner.Plan(config, "wg0");
        Assert.Empty(plan.Routes);
        Assert.Empty(plan.Rules);
        Assert.Equal(2, plan.Addresses.Count);
    }

    [Fact]
    public void Plan_FwMarkSet_RulesUseTheMark()
    {
        using var config = Config("0.0.0.0/0", "FwMark = 0xca6c\nMTU = 1280");
        var plan = RoutePlanner.Plan(config, "wg0");
        Assert.Equal(0xca6cu, plan.FwMark);
        Assert.Equal(1280, plan.Mtu);
        Assert.Equal(0xca6cu, plan.Rules[0].FwMark);
    }

    [Theory]
    [InlineData("10.99.0.2/16", "10.99.0.1")]
    [InlineData("10.99.7.9/24", "10.99.7.1")]
    [InlineData("fd00::2/64, 172.16.5.5/12", "172.16.0.1")]
    public void DefaultGateway_FirstHostOfTheAddressPrefix(string addresses, string expected)
    {
        using var config = WgQuickConfigParser.Parse($"[Interface]\nPrivateKey = {Key}\nAddress = {addresses}\n", "x.conf");
        Assert.Equal(IPAddress.Parse(expected), RoutePlanner.DefaultGateway(config));
    }

    [Fact]
    public void DefaultGateway_HostAddressOnly_None()
    {
        using var config = WgQuickConfigParser.Parse($"[Interface]\nPrivateKey = {Key}\nAddress = 10.99.0.2/32\n", "x.conf");
        Assert.Null(RoutePlanner.DefaultGateway(config));
    }

    [Theory]
    [InlineData("10.99.0.2/16, 2001:db8:99::2/128", "10.99.0.1", "2001:db8:99::1")]
    [InlineData("10.99.1.2/16, fd99::102/128", "10.99.0.1", "fd99::1")]
    [InlineData("fd99::102/128, 10.99.1.2/16", "10.99.0.1", "fd99::1")]
    public void Ipv6Gateway_TwinOfTheGatewaysIpv4Address(string addresses, string gateway, string expected)
    {
        using var config = WgQuickConfigParser.Parse($"[Interface]\nPrivateKey = {Key}\nAddress = {addresses}\n", "x.conf");
        Assert.Equal(IPAddress.Parse(expected), RoutePlanner.Ipv6Gateway(config, IPAddress.Parse(gateway)));
    }

    [Theory]
    [InlineData("10.99.0.2/16")]
    [InlineData("fd99::2/128")]
    public void Ipv6Gateway_WithoutBothFamilies_None(string addresses)
    {
        using var config = WgQuickConfigParser.Parse($"[Interface]\nPrivateKey = {Key}\nAddress = {addresses}\n", "x.conf");
        Assert.Null(RoutePlanner.Ipv6Gateway(config, IPAddress.Parse("10.99.0.1")));
    }
}
