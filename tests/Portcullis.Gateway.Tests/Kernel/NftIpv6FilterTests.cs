using System.Net;
using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Kernel;
using Portcullis.Gateway.Tests.Kernel.Support;
using Portcullis.Linux.Nftables;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Tests.Kernel;

/// <summary>
/// Remote-peer filters and inbound limits in table ip6 portcullis (issue 15): the rules in both IPv6 modes, and the
/// filter elements of IPv6 mappings in a real kernel (a namespace of its own per test) — written, listed back for
/// reconciliation, replaced on refresh, removed — and written without allocating.
/// </summary>
public sealed class NftIpv6FilterTests
{
    private static readonly IPAddress Public6 = IPAddress.Parse("2001:db8:1::a");
    private static readonly IPAddress Peer6 = IPAddress.Parse("fd99::2");
    private static readonly IPAddress RoutedPeer6 = IPAddress.Parse("2001:db8:99::2");

    private static readonly GatewayNetwork6 Nat66 = new()
    {
        TunnelPrefix = IPNetwork.Parse("fd99::/64"),
        GatewayTunnelAddress = IPAddress.Parse("fd99::1"),
        PublicAddresses = [Public6],
    };

    private static readonly GatewayNetwork6 Routed = new()
    {
        TunnelPrefix = IPNetwork.Parse("2001:db8:99::/64"),
        GatewayTunnelAddress = IPAddress.Parse("2001:db8:99::1"),
    };

    private const string FilterDrop =
        "prerouting iifname { \"eth0\", \"pc0\" } meta l4proto { tcp, udp } ip6 daddr . meta l4proto . th dport @filtered "
        + "ip6 daddr . meta l4proto . th dport . ip6 saddr . th sport != @admitted drop";

    [Fact]
    public void Install_Nat66_FilterDropBeforeTheDnat_LimitJumpBeforeTheAccept()
    {
        var script = NftIpv6Script.Install(Entries.Network() with { Ipv6 = Nat66 });

        Assert.Contains("add set ip6 portcullis admitted { type ipv6_addr . inet_proto . inet_service . ipv6_addr . inet_service; flags interval, timeout; }", script, StringComparison.Ordinal);
        Assert.Contains("add set ip6 portcullis filtered { type ipv6_addr . inet_proto . inet_service; flags timeout; }", script, StringComparison.Ordinal);
        var drop = script.IndexOf(FilterDrop, StringComparison.Ordinal);
        Assert.InRange(drop, 0, script.IndexOf("dnat ip6 to", StringComparison.Ordinal));
        var jump = script.IndexOf("forward oifname \"pc0\" ct state new ct status dnat jump inbound_limits", StringComparison.Ordinal);
        Assert.InRange(jump, 0, script.IndexOf("forward oifname \"pc0\" ct status dnat accept", StringComparison.Ordinal));
        Assert.Contains("add set ip6 portcullis inbound_rate { type ipv6_addr . inet_proto . inet_service;", script, StringComparison.Ordinal);
    }

    [Fact]
    public void Install_Routed_FilterDropAndLimitJumpGuardThePinholes()
    {
        var script = NftIpv6Script.Install(Entries.Network() with { Ipv6 = Routed, InboundLimits = new InboundLimits(4, 0) });

        Assert.Contains(FilterDrop, script, StringComparison.Ordinal);
        var jump = script.IndexOf("forward oifname \"pc0\" ct state new ip6 daddr . meta l4proto . th dport @leases jump inbound_limits", StringComparison.Ordinal);
        Assert.InRange(jump, 0, script.IndexOf("forward oifname \"pc0\" ip6 daddr . meta l4proto . th dport @leases accept", StringComparison.Ordinal));
        Assert.Contains("add rule ip6 portcullis inbound_limits update @inbound_rate { ip6 daddr . meta l4proto . th dport limit rate over 4/second", script, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Update_Kernel_Ipv6FilteredMapping_WrittenListedBackReplacedAndRemoved(bool routed)
    {
        using var ns = new TestNamespace("pcgk-f6");
        using var table = ns.Run(() => new NftForwardingTable());
        table.Install(Entries.Network() with { Ipv6 = routed ? Routed : Nat66 });
        var peer = routed ? RoutedPeer6 : Peer6;
        var entry = new ForwardingEntry(routed ? peer : Public6, MappingProtocol.Tcp, routed ? (ushort)8080 : (ushort)30000, peer, 8080, "p6", TimeSpan.FromHours(1))
        {
            // The /128 inside the /64 is one admission: the interval set refuses nesting.
            Filters = [new RemoteFilter(IPNetwork.Parse("2001:db8:5::/64"), 0), new RemoteFilter(IPNetwork.Parse("2001:db8:5::7/128"), 0),
                new RemoteFilter(IPNetwork.Parse("2001:db8:6::9/128"), 443)],
        };

        table.Update([], [entry]);

        var ruleset = ns.Ruleset();
        Assert.Contains($"{entry.PublicAddress} . tcp . {entry.PublicPort} . 2001:db8:5::/64 . 0-65535", ruleset, StringComparison.Ordinal);
        Assert.Contains($"{entry.PublicAddress} . tcp . {entry.PublicPort} . 2001:db8:6::9 . 443", ruleset, StringComparison.Ordinal);
        var listed = Assert.Single(table.List());
        Assert.Equal([new RemoteFilter(IPNetwork.Parse("2001:db8:5::/64"), 0), new RemoteFilter(IPNetwork.Parse("2001:db8:6::9/128"), 443)],
            listed.Filters.OrderBy(f => f.Port));

        var refreshed = entry with { Filters = [new RemoteFilter(IPNetwork.Parse("2001:db8:7::/48"), 0)] };
        table.Update([listed], [refreshed]);
        Assert.Equal([new RemoteFilter(IPNetwork.Parse("2001:db8:7::/48"), 0)], Assert.Single(table.List()).Filters);

        table.Update([Assert.Single(table.List())], []);
        Assert.Empty(table.List());
        Assert.DoesNotContain("2001:db8:7::/48", ns.Ruleset(), StringComparison.Ordinal);
    }

    [Fact]
    public void InboundLimitsSet_Kernel_WithIpv6BothTablesGetTheRules_WithoutIt_OnlyTableIp()
    {
        using var ns = new TestNamespace("pcgk-l6");
        using var table = ns.Run(() => new NftForwardingTable());
        using var limits = ns.Run(() => new NftInboundLimits());
        table.Install(Entries.Network() with { Ipv6 = Routed });

        limits.Set(new InboundLimits(5, 0));

        Assert.Contains("limit rate over 5/second", ns.Exec("nft", "list", "chain", "ip6", "portcullis", "inbound_limits"), StringComparison.Ordinal);
        Assert.Contains("limit rate over 5/second", ns.Exec("nft", "list", "chain", "ip", "portcullis", "inbound_limits"), StringComparison.Ordinal);
        Assert.Equal(new InboundDropCounts(0, 0), limits.ReadDrops());

        table.Install(Entries.Network());
        limits.Set(new InboundLimits(6, 0));

        Assert.Contains("limit rate over 6/second", ns.Exec("nft", "list", "chain", "ip", "portcullis", "inbound_limits"), StringComparison.Ordinal);
        Assert.DoesNotContain("ip6 portcullis", ns.Ruleset(), StringComparison.Ordinal);
    }

    [Fact]
    public void Append_SteadyStateRefreshOfBothFamilies_AllocatesNothing()
    {
        using var ns = new TestNamespace("pcgk-f6a");
        using var table = ns.Run(() => new NftForwardingTable());
        table.Install(Entries.Network() with { Ipv6 = Nat66 });
        using var writer = ns.Run(() => new NftSetElementWriter());
        List<ForwardingEntry> entries = [];
        for (var i = 0; i < 64; i++)
        {
            entries.Add(Entries.Tcp((ushort)(30000 + i), Entries.Client1, 8080, "p4", TimeSpan.FromHours(1)) with
            {
                Filters = [new RemoteFilter(IPNetwork.Parse("192.0.2.0/24"), 0), new RemoteFilter(IPNetwork.Parse("192.0.2.7/32"), 0),
                    new RemoteFilter(IPNetwork.Parse("203.0.113.9/32"), 443)],
            });
            entries.Add(new ForwardingEntry(Public6, MappingProtocol.Udp, (ushort)(30000 + i), Peer6, 5000, "p6", TimeSpan.FromHours(1))
            {
                Filters = [new RemoteFilter(IPNetwork.Parse("2001:db8:5::/64"), 0), new RemoteFilter(IPNetwork.Parse("2001:db8:6::9/128"), 443)],
            });
        }
        writer.Begin();
        NftFilterElements.Append(writer, [], entries);
        writer.Commit();
        writer.Begin();
        NftFilterElements.Append(writer, entries, entries);
        writer.Commit(); // the first refresh sizes the writer's reused buffers

        var before = GC.GetAllocatedBytesForCurrentThread();
        writer.Begin();
        NftFilterElements.Append(writer, entries, entries);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        writer.Commit();

        Assert.Equal(0, allocated);
        Assert.Contains("2001:db8:1::a . udp . 30063 . 2001:db8:6::9 . 443", ns.Ruleset(), StringComparison.Ordinal);
    }
}
