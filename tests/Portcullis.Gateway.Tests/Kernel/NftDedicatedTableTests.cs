using System.Net;
using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Kernel;
using Portcullis.Gateway.Tests.Kernel.Support;
using static Portcullis.Gateway.Tests.Kernel.Support.Entries;

namespace Portcullis.Gateway.Tests.Kernel;

/// <summary>Dedicated routes against the real kernel, each test in a namespace of its own, checked through the nft tool.</summary>
public sealed class NftDedicatedTableTests
{
    private static readonly IPAddress Dedicated2 = IPAddress.Parse("198.51.100.12");
    private static readonly HashSet<ushort> Blocked = [25, 135, 136, 137, 138, 139, 445];

    private static NftForwardingTable InstalledTable(TestNamespace ns)
    {
        var table = ns.Run(() => new NftForwardingTable());
        table.Install(Network());
        return table;
    }

    [Fact]
    public void SetDedicated_Routes_RulesetShowsThemAndListReadsThemBack()
    {
        using var ns = new TestNamespace("pcgk-ded");
        using var table = InstalledTable(ns);
        DedicatedRoute[] routes = [new(Dedicated, Client1, ForwardAllPorts: true), new(Dedicated2, Client2, ForwardAllPorts: false)];

        table.SetDedicated(routes, Blocked);

        var ruleset = ns.Ruleset();
        Assert.Contains("snat to ip saddr map @egress", ruleset, StringComparison.Ordinal);
        Assert.Contains("th dport != @dedicated_excluded dnat to ip daddr map @dedicated", ruleset, StringComparison.Ordinal);
        Assert.Contains("10.99.0.2 : 198.51.100.11", ruleset, StringComparison.Ordinal);
        Assert.Contains("10.99.0.3 : 198.51.100.12", ruleset, StringComparison.Ordinal);
        Assert.Contains("198.51.100.11 : 10.99.0.2", ruleset, StringComparison.Ordinal);
        Assert.DoesNotContain("198.51.100.12 : 10.99.0.3", ruleset, StringComparison.Ordinal);
        Assert.Contains("elements = { 25, 135-139, 445 }", ruleset, StringComparison.Ordinal);
        Assert.Equal(routes.OrderBy(r => r.PublicAddress.ToString()), table.ListDedicated().OrderBy(r => r.PublicAddress.ToString()));
    }

    [Fact]
    public void SetDedicated_Again_ReplacesTheWholeSet()
    {
        using var ns = new TestNamespace("pcgk-ded");
        using var table = InstalledTable(ns);
        table.SetDedicated([new(Dedicated, Client1, true), new(Dedicated2, Client2, true)], Blocked);

        table.SetDedicated([new(Dedicated2, Client1, false)], new HashSet<ushort> { 22 });

        Assert.Equal([new DedicatedRoute(Dedicated2, Client1, false)], table.ListDedicated());
        var ruleset = ns.Ruleset();
        Assert.DoesNotContain("198.51.100.11", ruleset, StringComparison.Ordinal);
        Assert.Contains("elements = { 22 }", ruleset, StringComparison.Ordinal);
    }

    [Fact]
    public void SetDedicated_Empty_ClearsRoutesAndKeepsMappings()
    {
        using var ns = new TestNamespace("pcgk-ded");
        using var table = InstalledTable(ns);
        table.Update([], [Tcp(30000, Client1, 8080, "p1")]);
        table.SetDedicated([new(Dedicated, Client1, true)], Blocked);

        table.SetDedicated([], new HashSet<ushort>());

        Assert.Empty(table.ListDedicated());
        Assert.Single(table.List());
    }

    [Theory]
    [InlineData("198.51.100.10", "10.99.0.2")] // the shared address
    [InlineData("198.51.100.11", "10.99.0.1")] // the gateway's own tunnel address
    [InlineData("198.51.100.11", "10.98.0.2")] // outside the tunnel prefix
    public void SetDedicated_InvalidRoute_ThrowsAndKeepsThePreviousRoutes(string publicAddress, string tunnelAddress)
    {
        using var ns = new TestNamespace("pcgk-ded");
        using var table = InstalledTable(ns);
        table.SetDedicated([new(Dedicated2, Client2, true)], Blocked);

        Assert.Throws<ArgumentException>(() =>
            table.SetDedicated([new(IPAddress.Parse(publicAddress), IPAddress.Parse(tunnelAddress), true)], Blocked));

        Assert.Equal([new DedicatedRoute(Dedicated2, Client2, true)], table.ListDedicated());
    }

    [Fact]
    public void SetDedicated_AddressTwice_Throws()
    {
        using var ns = new TestNamespace("pcgk-ded");
        using var table = InstalledTable(ns);

        Assert.Throws<ArgumentException>(() => table.SetDedicated([new(Dedicated, Client1, false), new(Dedicated, Client2, false)], Blocked));
        Assert.Throws<ArgumentException>(() => table.SetDedicated([new(Dedicated, Client1, false), new(Dedicated2, Client1, false)], Blocked));
        Assert.Empty(table.ListDedicated());
    }

    [Fact]
    public void Restart_NewInstanceAndInstallAgain_ReadsBackWhatThePreviousRunLeft()
    {
        using var ns = new TestNamespace("pcgk-ded");
        DedicatedRoute[] routes = [new(Dedicated, Client1, ForwardAllPorts: true)];
        using (var first = InstalledTable(ns))
            first.SetDedicated(routes, Blocked);

        using var second = InstalledTable(ns);

        Assert.Equal(routes, second.ListDedicated());
    }

    [Fact]
    public void ListDedicated_NoTable_Empty()
    {
        using var ns = new TestNamespace("pcgk-ded");
        using var table = ns.Run(() => new NftForwardingTable());

        Assert.Empty(table.ListDedicated());
    }
}
