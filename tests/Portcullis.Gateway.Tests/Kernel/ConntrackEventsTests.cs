using Portcullis.Gateway.Tests.Kernel.Support;
using Portcullis.Linux.Nftables;
using static Portcullis.Gateway.Tests.Kernel.Support.ConntrackEntries;

namespace Portcullis.Gateway.Tests.Kernel;

/// <summary>The ctnetlink event socket against the real kernel: entries made and deleted with `conntrack`, each test in a namespace of its own.</summary>
public sealed class ConntrackEventsTests
{
    [Fact]
    public void Read_DnatedEntryInsertedThenDeleted_NewThenDestroyWithTheExactTuple()
    {
        using var ns = new TestNamespace("pcgk-cte");
        using var events = ns.Run(() => new ConntrackEvents());

        Track(ns, Insert("tcp", 30000, 6000));
        var created = ReadUntil(events, e => e.Flow.DestinationPort == 30000);
        ns.Exec("conntrack", "-D", "-p", "tcp", "--orig-port-dst", "30000");
        var destroyed = ReadUntil(events, e => e.Kind == ConntrackEventKind.Destroy);

        Assert.NotNull(created);
        Assert.Equal(ConntrackEventKind.New, created.Value.Kind);
        var flow = created.Value.Flow;
        Assert.Equal(new TrackedFlow(6, Address("192.0.2.100"), 6000, Address("198.51.100.10"), 30000,
            Address("10.99.0.2"), 30000, 0, flow.Id), flow);
        Assert.NotEqual(0u, flow.Id);
        Assert.True(flow.IsDestinationNatted);
        Assert.Equal(new FlowKey(Address("198.51.100.10"), 6, 30000), flow.Key);
        Assert.NotNull(destroyed);
        Assert.Equal(flow, destroyed.Value.Flow);
    }

    [Fact]
    public void Read_UdpAndUnnattedAndIcmp_UdpReadUnnattedMarkedIcmpSkipped()
    {
        using var ns = new TestNamespace("pcgk-cte");
        using var events = ns.Run(() => new ConntrackEvents());

        ns.Exec("conntrack", "-I", "-p", "icmp", "-s", "192.0.2.100", "-d", "198.51.100.10", "--icmp-type", "8",
            "--icmp-code", "0", "--icmp-id", "7", "-t", "300");
        Track(ns, Insert("udp", 30001, 6001, natted: false), Insert("udp", 30002, 6002));
        var seen = new List<ConntrackEvent>();
        Assert.NotNull(ReadUntil(events, e => e.Flow.DestinationPort == 30002, seen));

        Assert.Equal(2, seen.Count);
        Assert.All(seen, e => Assert.Equal(17, e.Flow.Protocol));
        Assert.False(seen[0].Flow.IsDestinationNatted);
        Assert.True(seen[1].Flow.IsDestinationNatted);
    }

    [Fact]
    public void Read_MoreEventsThanTheBufferHolds_ReportsOverrun()
    {
        using var ns = new TestNamespace("pcgk-cte");
        // The kernel's floor for a receive buffer is a few KiB: a few dozen events.
        using var events = ns.Run(() => new ConntrackEvents(receiveBuffer: 4096));

        Track(ns, Enumerable.Range(0, 300).Select(i => Insert("udp", 30000, 10000 + i)).ToArray());

        var overrun = false;
        var buffer = new ConntrackEvent[512];
        var read = 0;
        ConntrackEventsRead batch;
        do
        {
            batch = events.Read(buffer);
            overrun |= batch.Overrun;
            read += batch.Count;
        }
        while (batch.Count > 0);
        Assert.True(overrun, $"read {read} of 300 events without an overrun");
        Assert.True(read < 300);
    }

    [Fact]
    public void Read_Ipv6DnatedEntryInsertedThenDeletedExactly_NewThenDestroyWithTheExactTuple()
    {
        using var ns = new TestNamespace("pcgk-cte");
        using var events = ns.Run(() => new ConntrackEvents());
        using var conntrack = ns.Run(() => new Conntrack());

        Track(ns, Insert6("tcp", 30000, 6000), Insert6("tcp", 30000, 6001));
        var created = ReadUntil(events, e => e.Flow.SourcePort == 6000);
        Assert.NotNull(created);
        var flow = created.Value.Flow;
        Assert.Equal(new TrackedFlow(6, Address("2001:db8:2::100"), 6000, Address("2001:db8:1::a"), 30000,
            Address("fd99::2"), 30000, 0, flow.Id), flow);
        Assert.False(flow.IsV4);
        Assert.True(flow.IsDestinationNatted);
        Assert.Equal(new FlowKey(Address("2001:db8:1::a"), 6, 30000), flow.Key);

        // The exact-tuple delete speaks IPv6 (AF_INET6, CTA_IP_V6_*): that entry goes, its neighbour stays.
        Assert.Equal(1, conntrack.DeleteExact([flow]));
        var destroyed = ReadUntil(events, e => e.Kind == ConntrackEventKind.Destroy);
        Assert.NotNull(destroyed);
        Assert.Equal(flow, destroyed.Value.Flow);
        var flows = Flows(ns, ipv6: true);
        Assert.False(Has(flows, "tcp", 30000, 6000));
        Assert.True(Has(flows, "tcp", 30000, 6001));
    }
}
