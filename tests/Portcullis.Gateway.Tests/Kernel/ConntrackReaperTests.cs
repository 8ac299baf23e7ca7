using Microsoft.Extensions.Time.Testing;
using Portcullis.Gateway.Tests.Kernel.Support;
using Portcullis.Linux.Nftables;
using static Portcullis.Gateway.Tests.Kernel.Support.ConntrackEntries;

namespace Portcullis.Gateway.Tests.Kernel;

/// <summary>
/// The reaper against the real kernel: flows made with `conntrack -I` (DNATed like a mapping's, or not), ended by
/// destination from the event index, after lost events, and without events. Each test in a namespace of its own.
/// </summary>
public sealed class ConntrackReaperTests
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);
    private static readonly OriginalDestination Web = new("tcp", Entries.Public, 30000);

    private sealed class RecordingLog : IConntrackReaperLog
    {
        public ManualResetEventSlim? HoldEnded { get; set; }
        public List<(int Destinations, int Flows, bool ByDump)> Cleanups { get; } = [];
        public List<string> Notices { get; } = [];

        public void EventsUnavailable(string reason) => Notices.Add("unavailable: " + reason);
        public void EventsOverrun(int flows) => Notices.Add($"overrun: {flows}");
        public void RebuildFailed(string message) => Notices.Add("rebuild failed: " + message);
        public void DumpNotice(string message) => Notices.Add(message);
        public void Failed(string message) => Notices.Add("failed: " + message);

        public void Ended(int destinations, int flows, bool byDump)
        {
            lock (Cleanups)
                Cleanups.Add((destinations, flows, byDump));
            HoldEnded?.Wait(Generous);
        }
    }

    // Before the reaper starts (found by its first dump), after (found by events), and neighbours that must stay.
    private static void Populate(TestNamespace ns, Action between)
    {
        Track(ns, Insert("tcp", 30000, 6000));
        between();
        Track(ns,
            Insert("tcp", 30000, 6001),
            Insert("tcp", 30001, 6000),
            Insert("udp", 30000, 6000),
            Insert("tcp", 30000, 6002, natted: false)); // to the gateway itself on the same number: not the mapping's
    }

    private static void AssertOnlyTheMappingsFlowsWent(TestNamespace ns)
    {
        var flows = Flows(ns);
        Assert.False(Has(flows, "tcp", 30000, 6000));
        Assert.False(Has(flows, "tcp", 30000, 6001));
        Assert.True(Has(flows, "tcp", 30001, 6000));
        Assert.True(Has(flows, "udp", 30000, 6000));
        Assert.True(Has(flows, "tcp", 30000, 6002));
    }

    [Fact]
    public void End_FlowsFromBeforeAndAfterStart_OnlyTheDestinationsDnatedFlowsGo()
    {
        using var ns = new TestNamespace("pcgk-ctr");
        var log = new RecordingLog();
        ConntrackReaper? started = null;
        Populate(ns, () => started = ns.Run(() => new ConntrackReaper(log)));
        using var reaper = started!;

        reaper.End([Web]);

        Assert.True(reaper.WaitIdle(Generous));
        AssertOnlyTheMappingsFlowsWent(ns);
        Assert.True(reaper.UsesEvents);
        Assert.Equal(2, reaper.Deleted);
        Assert.Equal([(1, 2, false)], log.Cleanups);
        Assert.Empty(log.Notices);
    }

    [Fact]
    public void End_WithoutEvents_SameFlowsGoByDump()
    {
        using var ns = new TestNamespace("pcgk-ctr");
        var log = new RecordingLog();
        ConntrackReaper? started = null;
        Populate(ns, () => started = ns.Run(() => new ConntrackReaper(log, useEvents: false)));
        using var reaper = started!;

        reaper.End([Web]);

        Assert.True(reaper.WaitIdle(Generous));
        Assert.False(reaper.UsesEvents);
        // The dump path matches by destination only, so the gateway's own flow on that number goes too (as before).
        var flows = Flows(ns);
        Assert.False(Has(flows, "tcp", 30000, 6000));
        Assert.False(Has(flows, "tcp", 30000, 6001));
        Assert.True(Has(flows, "tcp", 30001, 6000));
        Assert.Equal([(1, 3, true)], log.Cleanups);
    }

    [Fact]
    public void End_AfterEventsWereLost_IndexRebuiltFromDumpAndFlowsStillGo()
    {
        using var ns = new TestNamespace("pcgk-ctr");
        var log = new RecordingLog { HoldEnded = new ManualResetEventSlim() };
        using var reaper = ns.Run(() => new ConntrackReaper(log, receiveBuffer: 4096));
        // Hold the reaper's thread inside a cleanup while far more events arrive than its socket holds.
        reaper.End([new OriginalDestination("tcp", Entries.Public, 1)]);
        Assert.True(SpinWait.SpinUntil(() => { lock (log.Cleanups) return log.Cleanups.Count == 1; }, Generous));
        Track(ns, Enumerable.Range(0, 300).Select(i => Insert("tcp", 30000, 10000 + i)).ToArray());
        log.HoldEnded.Set();

        reaper.End([Web]);

        Assert.True(reaper.WaitIdle(Generous));
        Assert.Contains("overrun: 300", log.Notices);
        Assert.Equal(300, reaper.Deleted);
        Assert.DoesNotContain(Flows(ns), l => l.Contains("dport=30000 ", StringComparison.Ordinal));
        Assert.Equal((1, 300, false), log.Cleanups[^1]);
    }

    [Fact]
    public void LateFlow_WithinGuard_EndedOnSight_UnlessReopened()
    {
        using var ns = new TestNamespace("pcgk-ctr");
        var time = new FakeTimeProvider();
        var log = new RecordingLog();
        using var watcher = ns.Run(() => new ConntrackEvents());
        using var reaper = ns.Run(() => new ConntrackReaper(log, time));
        reaper.End([Web]);
        Assert.True(reaper.WaitIdle(Generous));

        // A flow that met the old map just before the commit shows up after the cleanup: the guard ends it.
        Track(ns, Insert("tcp", 30000, 7000));
        Assert.NotNull(ReadUntil(watcher, e => e.Kind == ConntrackEventKind.Destroy && e.Flow.SourcePort == 7000));

        // Mapped again: new flows are the new mapping's and stay.
        Assert.Single(reaper.Reopen([new EndedMapping(Web, null, 0)]));
        Track(ns, Insert("tcp", 30000, 7001));
        reaper.End([new OriginalDestination("udp", Entries.Public, 1)]); // a pass through the thread after that event
        Assert.True(reaper.WaitIdle(Generous));
        Assert.True(Has(Flows(ns), "tcp", 30000, 7001));
        Assert.Equal(1, reaper.Deleted);
    }

    [Fact]
    public void LateFlow_AfterGuard_Stays()
    {
        using var ns = new TestNamespace("pcgk-ctr");
        var time = new FakeTimeProvider();
        var log = new RecordingLog();
        using var reaper = ns.Run(() => new ConntrackReaper(log, time));
        reaper.End([Web]);
        Assert.True(reaper.WaitIdle(Generous));

        time.Advance(ConntrackReaper.Guard);
        Track(ns, Insert("tcp", 30000, 7000));
        reaper.End([new OriginalDestination("udp", Entries.Public, 1)]);
        Assert.True(reaper.WaitIdle(Generous));

        Assert.True(Has(Flows(ns), "tcp", 30000, 7000));
        Assert.Equal(0, reaper.Deleted);
    }

    [Fact]
    public void End_MappingWithItsTarget_FlowsSentElsewhereStay()
    {
        using var ns = new TestNamespace("pcgk-ctr");
        var log = new RecordingLog();
        using var reaper = ns.Run(() => new ConntrackReaper(log));
        // The old mapping sent 30000 to 10.99.0.2; a newer one on the same port sends it to 10.99.0.3.
        Track(ns, Insert("tcp", 30000, 6000), Insert("tcp", 30000, 6001, target: "10.99.0.3"));

        reaper.End([new EndedMapping(Web, Entries.Client1, 30000)]);

        Assert.True(reaper.WaitIdle(Generous));
        var flows = Flows(ns);
        Assert.False(Has(flows, "tcp", 30000, 6000));
        Assert.True(Has(flows, "tcp", 30000, 6001));
        Assert.Equal(1, reaper.Deleted);
    }

    [Fact]
    public void Reopen_SameMappingBackBeforeItsCleanupRan_ItsFlowsStayAndNoGuard()
    {
        using var ns = new TestNamespace("pcgk-ctr");
        var log = new RecordingLog { HoldEnded = new ManualResetEventSlim() };
        using var reaper = ns.Run(() => new ConntrackReaper(log, new FakeTimeProvider()));
        Track(ns, Insert("tcp", 30000, 6000));
        // Hold the thread in a cleanup, so the next one waits in the queue.
        reaper.End([new OriginalDestination("tcp", Entries.Public, 1)]);
        Assert.True(SpinWait.SpinUntil(() => { lock (log.Cleanups) return log.Cleanups.Count == 1; }, Generous));
        var mapping = new EndedMapping(Web, Entries.Client1, 30000);
        reaper.End([mapping]);

        Assert.True(reaper.Busy);
        Assert.Equal([mapping], reaper.Reopen([mapping]));
        Assert.Empty(reaper.Reopen([new EndedMapping(Web, Entries.Client2, 30000)])); // nothing pending for that target
        log.HoldEnded.Set();
        Assert.True(reaper.WaitIdle(Generous));
        Track(ns, Insert("tcp", 30000, 6001));
        reaper.End([new OriginalDestination("udp", Entries.Public, 1)]); // a pass through the thread after that event
        Assert.True(reaper.WaitIdle(Generous));

        var flows = Flows(ns);
        Assert.True(Has(flows, "tcp", 30000, 6000));
        Assert.True(Has(flows, "tcp", 30000, 6001));
        Assert.Equal(0, reaper.Deleted);
    }

    [Fact]
    public void EndAllPorts_EveryPortButTheKeptGoes()
    {
        using var ns = new TestNamespace("pcgk-ctr");
        var log = new RecordingLog();
        using var reaper = ns.Run(() => new ConntrackReaper(log));
        Track(ns,
            Insert("tcp", 4711, 6000, destination: "198.51.100.11"),
            Insert("udp", 4712, 6000, destination: "198.51.100.11"),
            Insert("tcp", 30000, 6000, destination: "198.51.100.11"),
            Insert("tcp", 4711, 6001));

        reaper.EndAllPorts(Entries.Dedicated, new HashSet<FlowKey> { ConntrackReaper.KeyOf("tcp", Entries.Dedicated, 30000) });

        Assert.True(reaper.WaitIdle(Generous));
        var flows = Flows(ns);
        Assert.Equal(2, flows.Length);
        Assert.Contains(flows, l => l.Contains("dst=198.51.100.11 sport=6000 dport=30000 ", StringComparison.Ordinal));
        Assert.Contains(flows, l => l.Contains("dst=198.51.100.10 sport=6001 dport=4711 ", StringComparison.Ordinal));
    }

    [Fact]
    public void End_BadDestination_RejectedOnTheCallersThread()
    {
        using var ns = new TestNamespace("pcgk-ctr");
        using var reaper = ns.Run(() => new ConntrackReaper(new RecordingLog()));

        Assert.Throws<ArgumentException>(() => reaper.End([new OriginalDestination("icmp", Entries.Public, 1)]));
        Assert.Throws<ArgumentException>(() => reaper.End([new OriginalDestination("icmp", Public6, 1)]));
    }

    private static readonly System.Net.IPAddress Public6 = System.Net.IPAddress.Parse("2001:db8:1::a");
    private static readonly System.Net.IPAddress Peer6 = System.Net.IPAddress.Parse("fd99::2");
    private static readonly EndedMapping Web6 = new(new OriginalDestination("tcp", Public6, 30000), Peer6, 30000);

    // As Populate, in IPv6 (NAT66: public v6 . port → peer /128 . port), with an IPv4 flow on the same numbers besides.
    private static void Populate6(TestNamespace ns, Action between)
    {
        Track(ns, Insert6("tcp", 30000, 6000));
        between();
        Track(ns,
            Insert6("tcp", 30000, 6001),
            Insert6("tcp", 30001, 6000),
            Insert6("udp", 30000, 6000),
            Insert6("tcp", 30000, 6002, target: "fd99::3"),   // another mapping's target on that key: not this one's
            Insert6("tcp", 30000, 6003, natted: false),       // to the gateway itself on the same number
            Insert("tcp", 30000, 6000));                      // IPv4, same ports
    }

    private static void AssertOnlyTheIpv6MappingsFlowsWent(TestNamespace ns)
    {
        var flows = Flows(ns, ipv6: true);
        Assert.False(Has(flows, "tcp", 30000, 6000));
        Assert.False(Has(flows, "tcp", 30000, 6001));
        Assert.True(Has(flows, "tcp", 30001, 6000));
        Assert.True(Has(flows, "udp", 30000, 6000));
        Assert.True(Has(flows, "tcp", 30000, 6002));
        Assert.True(Has(flows, "tcp", 30000, 6003));
        Assert.True(Has(Flows(ns), "tcp", 30000, 6000));
    }

    [Fact]
    public void End_Ipv6Mapping_FlowsFromBeforeAndAfterStart_OnlyItsOwnGo()
    {
        using var ns = new TestNamespace("pcgk-ctr");
        var log = new RecordingLog();
        ConntrackReaper? started = null;
        Populate6(ns, () => started = ns.Run(() => new ConntrackReaper(log)));
        using var reaper = started!;

        reaper.End([Web6]);

        Assert.True(reaper.WaitIdle(Generous));
        AssertOnlyTheIpv6MappingsFlowsWent(ns);
        Assert.True(reaper.UsesEvents);
        Assert.Equal(2, reaper.Deleted);
        Assert.Equal([(1, 2, false)], log.Cleanups);
        Assert.Empty(log.Notices);
    }

    [Fact]
    public void End_Ipv6MappingWithoutEvents_SameFlowsGoByDump()
    {
        using var ns = new TestNamespace("pcgk-ctr");
        var log = new RecordingLog();
        ConntrackReaper? started = null;
        Populate6(ns, () => started = ns.Run(() => new ConntrackReaper(log, useEvents: false)));
        using var reaper = started!;

        reaper.End([Web6]);

        Assert.True(reaper.WaitIdle(Generous));
        Assert.False(reaper.UsesEvents);
        AssertOnlyTheIpv6MappingsFlowsWent(ns);
        Assert.Equal(2, reaper.Deleted);
        Assert.Equal([(1, 2, true)], log.Cleanups);
    }

    [Fact]
    public void Reopen_Ipv6MappingBack_LateFlowStays()
    {
        using var ns = new TestNamespace("pcgk-ctr");
        var time = new FakeTimeProvider();
        var log = new RecordingLog();
        using var watcher = ns.Run(() => new ConntrackEvents());
        using var reaper = ns.Run(() => new ConntrackReaper(log, time));
        reaper.End([Web6]);
        Assert.True(reaper.WaitIdle(Generous));

        // Within the guard a late IPv6 flow of the removed mapping is ended on sight…
        Track(ns, Insert6("tcp", 30000, 7000));
        Assert.NotNull(ReadUntil(watcher, e => e.Kind == ConntrackEventKind.Destroy && e.Flow.SourcePort == 7000 && !e.Flow.IsV4));

        // …and once the mapping is back, its flows stay.
        Assert.Single(reaper.Reopen([Web6]));
        Track(ns, Insert6("tcp", 30000, 7001));
        reaper.End([new OriginalDestination("udp", Public6, 1)]); // a pass through the thread after that event
        Assert.True(reaper.WaitIdle(Generous));
        Assert.True(Has(Flows(ns, ipv6: true), "tcp", 30000, 7001));
        Assert.Equal(1, reaper.Deleted);
    }

    [Fact]
    public void End_RoutedPinhole_OnlyFlowsFromOutsideThePrefixToThePeersPortGo()
    {
        using var ns = new TestNamespace("pcgk-ctr");
        var log = new RecordingLog();
        // Before the prefix is known (found by the rebuild SetRoutedPrefix asks for), and after (found by events).
        Track(ns, Insert("tcp", 8080, 6000, natted: false, destination: "2001:db8:99::2", source: "2001:db8:2::100"));
        using var reaper = ns.Run(() => new ConntrackReaper(log));
        reaper.SetRoutedPrefix(System.Net.IPNetwork.Parse("2001:db8:99::/64"));
        reaper.End([new OriginalDestination("udp", Public6, 1)]); // a pass through the thread: the prefix is applied
        Assert.True(reaper.WaitIdle(Generous));
        Track(ns,
            Insert("tcp", 8080, 6001, natted: false, destination: "2001:db8:99::2", source: "2001:db8:2::100"),
            Insert("tcp", 8081, 6000, natted: false, destination: "2001:db8:99::2", source: "2001:db8:2::100"),  // another port
            Insert("tcp", 8080, 6002, natted: false, destination: "2001:db8:99::2", source: "2001:db8:99::3"));  // a peer's, inside

        var pinhole = System.Net.IPAddress.Parse("2001:db8:99::2");
        reaper.End([new EndedMapping(new OriginalDestination("tcp", pinhole, 8080), pinhole, 8080)]);

        Assert.True(reaper.WaitIdle(Generous));
        var flows = Flows(ns, ipv6: true);
        Assert.False(Has(flows, "tcp", 8080, 6000));
        Assert.False(Has(flows, "tcp", 8080, 6001));
        Assert.True(Has(flows, "tcp", 8081, 6000));
        Assert.True(Has(flows, "tcp", 8080, 6002));
        Assert.Equal(2, reaper.Deleted);
        Assert.Empty(log.Notices);
    }
}
