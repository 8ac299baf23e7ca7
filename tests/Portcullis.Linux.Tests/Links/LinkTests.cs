using System.Net;
using System.Net.Sockets;
using Portcullis.Linux.Links;
using Portcullis.Linux.Tests.Support;

namespace Portcullis.Linux.Tests.Links;

public sealed class LinkTests
{
    private const string Device = "pcveth0";

    /// <summary>A namespace holding one interface (a veth end; this kernel has no dummy driver) to configure.</summary>
    private static TestNamespace WithLink()
    {
        var ns = new TestNamespace("pclx");
        var (exitCode, output) = ns.TryIp("link", "add", Device, "type", "veth", "peer", "name", "pcveth1");
        if (exitCode != 0)
        {
            ns.Dispose();
            throw new InvalidOperationException($"ip link add veth failed: {output}");
        }
        return ns;
    }

    [Fact]
    public void Delete_ExistingLink_GoneFromThisNamespaceOnly()
    {
        using var ns = WithLink();
        Assert.True(ns.Run(() => Link.Exists(Device)));
        Assert.False(Link.Exists(Device));

        ns.Run(() => Link.Delete(Device));
        Assert.False(ns.Run(() => Link.Exists(Device)));
        Assert.NotEqual(0, ns.TryIp("link", "show", Device).ExitCode);
        var error = Assert.Throws<LinuxCallException>(() => ns.Run(() => Link.Delete(Device)));
        Assert.Contains("delete link pcveth0", error.Message);
    }

    [Fact]
    public void SetMtuAndSetUp_DummyLink_VisibleInIpLink()
    {
        using var ns = WithLink();
        ns.Run(() =>
        {
            Link.SetMtu(Device, 1280);
            Link.SetUp(Device);
        });
        var shown = ns.TryIp("link", "show", Device).Output;
        Assert.Contains("mtu 1280", shown);
        Assert.Contains(",UP", shown);

        ns.Run(() => Link.SetDown(Device));
        Assert.DoesNotContain(",UP", ns.TryIp("link", "show", Device).Output);
    }

    [Fact]
    public void GetIndex_ExistingAndMissing_IndexOrError()
    {
        using var ns = WithLink();
        var index = ns.Run(() => Link.GetIndex(Device));
        Assert.StartsWith($"{index}: {Device}", ns.TryIp("link", "show", Device).Output);
        var error = Assert.Throws<LinuxCallException>(() => ns.Run(() => Link.GetIndex("pcmissing0")));
        Assert.Equal(19, error.Errno);
    }

    [Fact]
    public void AddAddress_IPv4AndIPv6_VisibleInIpAddr()
    {
        using var ns = WithLink();
        ns.Run(() =>
        {
            Link.AddAddress(Device, IPAddress.Parse("10.77.0.1"), 24);
            Link.AddAddress(Device, IPNetwork.Parse("10.78.0.9/32"));
            Link.AddAddress(Device, IPAddress.Parse("fd00:77::1"), 64);
            Link.SetUp(Device);
        });
        var shown = ns.TryIp("addr", "show", Device).Output;
        Assert.Contains("inet 10.77.0.1/24", shown);
        Assert.Contains("inet 10.78.0.9/32", shown);
        Assert.Contains("inet6 fd00:77::1/64", shown);

        ns.Run(() => Link.DeleteAddress(Device, IPAddress.Parse("10.77.0.1"), 24));
        Assert.DoesNotContain("10.77.0.1", ns.TryIp("addr", "show", Device).Output);
    }

    [Fact]
    public void AddAddress_Twice_ThrowsNamingOperation()
    {
        using var ns = WithLink();
        ns.Run(() => Link.AddAddress(Device, IPAddress.Parse("10.77.0.1"), 24));
        var error = Assert.Throws<LinuxCallException>(() => ns.Run(() => Link.AddAddress(Device, IPAddress.Parse("10.77.0.1"), 24)));
        Assert.Equal(17, error.Errno); // EEXIST
        Assert.Contains("add address 10.77.0.1/24 dev pcveth0", error.Message);
    }

    [Fact]
    public void AddRoute_OnLinkViaGatewayAndOtherTable_VisibleInIpRoute()
    {
        using var ns = WithLink();
        ns.Run(() =>
        {
            Link.AddAddress(Device, IPAddress.Parse("10.77.0.1"), 24);
            Link.AddAddress(Device, IPAddress.Parse("fd00:77::1"), 64);
            Link.SetUp(Device);
            Link.AddRoute(IPNetwork.Parse("10.88.0.0/16"), Device);
            Link.AddRoute(IPNetwork.Parse("10.89.0.0/16"), Device, gateway: IPAddress.Parse("10.77.0.254"));
            Link.AddRoute(IPNetwork.Parse("0.0.0.0/0"), Device, table: 51820);
            Link.AddRoute(IPNetwork.Parse("fd00:88::/48"), Device);
        });
        var main = ns.TryIp("route").Output;
        Assert.Contains("10.88.0.0/16 dev pcveth0", main);
        Assert.Contains("10.89.0.0/16 via 10.77.0.254 dev pcveth0", main);
        Assert.Contains("default dev pcveth0", ns.TryIp("route", "show", "table", "51820").Output);
        Assert.Contains("fd00:88::/48 dev pcveth0", ns.TryIp("-6", "route").Output);

        ns.Run(() => Link.DeleteRoute(IPNetwork.Parse("10.88.0.0/16"), Device));
        Assert.DoesNotContain("10.88.0.0/16", ns.TryIp("route").Output);
    }

    [Fact]
    public void AddRoute_MissingDevice_ThrowsNamingOperation()
    {
        using var ns = new TestNamespace("pclx");
        var error = Assert.Throws<LinuxCallException>(() => ns.Run(() => Link.AddRoute(IPNetwork.Parse("10.88.0.0/16"), "pcmissing0")));
        Assert.Contains("add route 10.88.0.0/16 dev pcmissing0", error.Message);
        Assert.Equal(19, error.Errno);
    }

    [Fact]
    public void AddRoute_GatewayNotReachable_KernelErrorThrown()
    {
        using var ns = WithLink();
        ns.Run(() => Link.SetUp(Device));
        var error = Assert.Throws<LinuxCallException>(() =>
            ns.Run(() => Link.AddRoute(IPNetwork.Parse("10.89.0.0/16"), Device, gateway: IPAddress.Parse("192.0.2.1"))));
        Assert.Equal(101, error.Errno); // ENETUNREACH: no route to the gateway
        Assert.Contains("add route 10.89.0.0/16 via 192.0.2.1 dev pcveth0", error.Message);
    }

    [Fact]
    public void AddRule_WgQuickPair_VisibleInIpRule()
    {
        using var ns = new TestNamespace("pclx");
        foreach (var family in new[] { AddressFamily.InterNetwork, AddressFamily.InterNetworkV6 })
        {
            ns.Run(() =>
            {
                Link.AddRule(new RoutingRule { Family = family, Not = true, FwMark = 51820, Table = 51820 });
                Link.AddRule(new RoutingRule { Family = family, Table = Link.MainTable, SuppressPrefixLength = 0 });
                Link.AddRule(new RoutingRule { Family = family, FwMark = 7, FwMask = 0xff, Table = 100, Priority = 123 });
            });
        }
        foreach (var flag in new[] { "-4", "-6" })
        {
            var rules = ns.TryIp(flag, "rule").Output;
            Assert.Contains("not from all fwmark 0xca6c lookup 51820", rules);
            Assert.Contains("from all lookup main suppress_prefixlength 0", rules);
            Assert.Contains("123:\tfrom all fwmark 0x7/0xff lookup 100", rules);
        }

        ns.Run(() => Link.DeleteRule(new RoutingRule { Family = AddressFamily.InterNetwork, Not = true, FwMark = 51820, Table = 51820 }));
        Assert.DoesNotContain("fwmark 0xca6c", ns.TryIp("-4", "rule").Output);
        Assert.Contains("fwmark 0xca6c", ns.TryIp("-6", "rule").Output);
    }
}
