using System.Net;
using Portcullis.Client.Config;
using Portcullis.Client.Routing;

namespace Portcullis.Client.Tests.Routing;

/// <summary>A route plan applied to a dummy interface in a fresh network namespace, then undone.</summary>
public sealed class AppliedRoutesTests
{
    [Fact]
    public void Apply_FullTunnelPlan_WgQuickRulesAndRoutesThenUndone()
    {
        using var ns = new TestNamespace("pcct");
        // A veth stands in for the TUN: the plan only needs a link to hang addresses and routes on.
        ns.Exec("ip", "link", "add", "tun0", "type", "veth", "peer", "name", "tun0p");
        ns.Exec("ip", "link", "set", "tun0p", "up");
        var plan = new RoutePlan
        {
            Interface = "tun0",
            Mtu = 1420,
            Addresses = [new InterfaceAddress(IPAddress.Parse("10.99.0.2"), 16), new InterfaceAddress(IPAddress.Parse("fd99::2"), 64)],
            Routes =
            [
                new PlannedRoute(IPNetwork.Parse("10.99.0.0/16"), 254),
                new PlannedRoute(IPNetwork.Parse("0.0.0.0/0"), 51820),
                new PlannedRoute(IPNetwork.Parse("::/0"), 51820),
            ],
            Rules = [.. RoutePlanner.FullTunnelRules(System.Net.Sockets.AddressFamily.InterNetwork, 51820, 51820),
                .. RoutePlanner.FullTunnelRules(System.Net.Sockets.AddressFamily.InterNetworkV6, 51820, 51820)],
            FwMark = 51820,
            FullTunnel4 = true,
            FullTunnel6 = true,
        };

        var applied = ns.Run(() => AppliedRoutes.Apply(plan));
        var rules = ns.Exec("ip", "rule");
        Assert.Contains("not from all fwmark 0xca6c lookup 51820", rules, StringComparison.Ordinal);
        Assert.Contains("from all lookup main suppress_prefixlength 0", rules, StringComparison.Ordinal);
        Assert.Contains("not from all fwmark 0xca6c lookup 51820", ns.Exec("ip", "-6", "rule"), StringComparison.Ordinal);
        Assert.Contains("default dev tun0", ns.Exec("ip", "route", "show", "table", "51820"), StringComparison.Ordinal);
        Assert.Contains("mtu 1420", ns.Exec("ip", "link", "show", "tun0"), StringComparison.Ordinal);
        Assert.Contains("fib saddr type != local drop", ns.Exec("nft", "list", "table", "inet", "portcullis_tunnel_tun0"), StringComparison.Ordinal);
        Assert.Equal("1", ns.Exec("sysctl", "-n", "net.ipv4.conf.all.src_valid_mark").Trim());
        // Unmarked traffic anywhere, the gateway's address included, goes to the tunnel; marked traffic does not.
        Assert.Contains("dev tun0", ns.Exec("ip", "route", "get", "198.51.100.10"), StringComparison.Ordinal);

        ns.Run(applied.Dispose);
        Assert.DoesNotContain("51820", ns.Exec("ip", "rule"), StringComparison.Ordinal);
        Assert.DoesNotContain("51820", ns.Exec("ip", "-6", "rule"), StringComparison.Ordinal);
        Assert.Equal(string.Empty, ns.Exec("ip", "route", "show", "table", "51820").Trim());
        Assert.DoesNotContain("portcullis_tunnel_tun0", ns.Exec("nft", "list", "tables"), StringComparison.Ordinal);
    }

    [Fact]
    public void RemoveRules_AfterAKilledClient_DeletesOnlyWhatIsThere()
    {
        using var ns = new TestNamespace("pcct");
        var rules = RoutePlanner.FullTunnelRules(System.Net.Sockets.AddressFamily.InterNetwork, 51820, 51820);
        ns.Exec("ip", "rule", "add", "not", "fwmark", "51820", "table", "51820");
        Assert.Equal(1, ns.Run(() => AppliedRoutes.RemoveRules(rules)));
        Assert.DoesNotContain("51820", ns.Exec("ip", "rule"), StringComparison.Ordinal);
        Assert.Equal(0, ns.Run(() => AppliedRoutes.RemoveRules(rules)));
    }
}
