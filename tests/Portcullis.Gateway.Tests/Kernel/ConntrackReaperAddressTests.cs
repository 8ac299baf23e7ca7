using System.Globalization;
using System.Net;
using Portcullis.Gateway.Tests.Kernel.Support;
using Portcullis.Linux.Nftables;
using static Portcullis.Gateway.Tests.Kernel.Support.ConntrackEntries;

namespace Portcullis.Gateway.Tests.Kernel;

/// <summary>
/// The reaper's cleanups by tunnel address against the real kernel (flows made with `conntrack -I`): a removed peer's
/// flows both ways and a removed PEER mapping's one outbound flow, from the index of tunnel addresses' flows, queued and
/// done on the reaper's thread; and the same without events, by dump.
/// </summary>
public sealed class ConntrackReaperAddressTests
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);
    private static readonly IPNetwork Tunnel = IPNetwork.Parse("10.99.0.0/16");
    private static readonly IPAddress Alice = IPAddress.Parse("10.99.0.2");

    private sealed class RecordingLog : IConntrackReaperLog
    {
        public ManualResetEventSlim HoldEnded { get; } = new(initialState: true);
        public List<(int Destinations, int Flows, bool ByDump)> Cleanups { get; } = [];

        public void EventsUnavailable(string reason) { }
        public void EventsOverrun(int flows) { }
        public void RebuildFailed(string message) => throw new InvalidOperationException(message);
        public void DumpNotice(string message) { }
        public void Failed(string message) => throw new InvalidOperationException(message);

        public void Ended(int destinations, int flows, bool byDump)
        {
            lock (Cleanups)
                Cleanups.Add((destinations, flows, byDump));
            HoldEnded.Wait(Generous);
        }

        public int Count
        {
            get { lock (Cleanups) return Cleanups.Count; }
        }
    }

    // A flow a peer opened, masqueraded to the public address on publicPort.
    private static string Outbound(string peer, int sourcePort, int remotePort, int publicPort) => string.Create(CultureInfo.InvariantCulture,
        $"conntrack -I -p tcp -s {peer} -d 192.0.2.100 --sport {sourcePort} --dport {remotePort} -r 192.0.2.100 -q 198.51.100.10 --reply-port-src {remotePort} --reply-port-dst {publicPort} -t 300 --state ESTABLISHED -u SEEN_REPLY >/dev/null 2>&1");

    private static void Populate(TestNamespace ns) => Track(ns,
        Outbound("10.99.0.2", 40000, 80, 50000),
        Outbound("10.99.0.2", 40001, 80, 50001),
        Insert("tcp", 30000, 6000, target: "10.99.0.2"),  // forwarded to alice
        Outbound("10.99.0.3", 40000, 80, 50002),
        Insert("tcp", 30001, 6000, target: "10.99.0.3"),  // forwarded to bob
        Insert("tcp", 30002, 6000, natted: false));       // to the gateway itself

    private static bool HasAlice(string[] flows) => flows.Any(l => l.Contains("=10.99.0.2 ", StringComparison.Ordinal));

    private static void AssertOnlyAlicesWent(TestNamespace ns)
    {
        var flows = Flows(ns);
        Assert.False(HasAlice(flows));
        Assert.Contains(flows, l => l.Contains("src=10.99.0.3 ", StringComparison.Ordinal) && l.Contains("sport=40000 ", StringComparison.Ordinal));
        Assert.True(Has(flows, "tcp", 30001, 6000));
        Assert.True(Has(flows, "tcp", 30002, 6000));
    }

    [Fact]
    public void EndInvolving_WhileTheThreadIsBusy_ReturnsAtOnce_ThenTheAddressFlowsGoFromTheIndex()
    {
        using var ns = new TestNamespace("pcgk-cta");
        var log = new RecordingLog();
        using var reaper = ns.Run(() => new ConntrackReaper(log));
        reaper.SetTunnelPrefixes([Tunnel]);
        Populate(ns);
        // Hold the reaper's thread inside another cleanup.
        log.HoldEnded.Reset();
        reaper.End([new OriginalDestination("tcp", Entries.Public, 1)]);
        Assert.True(SpinWait.SpinUntil(() => log.Count == 1, Generous));

        reaper.EndInvolving(Alice);

        Assert.True(HasAlice(Flows(ns))); // queued, not done on this thread
        log.HoldEnded.Set();
        Assert.True(reaper.WaitIdle(Generous));
        AssertOnlyAlicesWent(ns);
        Assert.Equal((1, 3, false), log.Cleanups[^1]);
        Assert.Equal(3, reaper.Deleted);
    }

    [Fact]
    public void EndInvolving_WithoutEventsOrOutsideThePrefixes_SameFlowsGoByDump()
    {
        using var ns = new TestNamespace("pcgk-cta");
        var log = new RecordingLog();
        using var reaper = ns.Run(() => new ConntrackReaper(log, useEvents: false));
        Populate(ns);

        reaper.EndInvolving(Alice);

        Assert.True(reaper.WaitIdle(Generous));
        AssertOnlyAlicesWent(ns);
        Assert.Equal([(1, 3, true)], log.Cleanups);
    }

    [Fact]
    public void EndOutbound_OnlyThatTupleGoes()
    {
        using var ns = new TestNamespace("pcgk-cta");
        var log = new RecordingLog();
        using var reaper = ns.Run(() => new ConntrackReaper(log));
        reaper.SetTunnelPrefixes([Tunnel]);
        Populate(ns);
        Track(ns, Outbound("10.99.0.2", 40000, 81, 50003)); // same source port, another remote port

        reaper.EndOutbound([new OutboundFlow("tcp", new IPEndPoint(Alice, 40000), new IPEndPoint(IPAddress.Parse("192.0.2.100"), 80))]);

        Assert.True(reaper.WaitIdle(Generous));
        var flows = Flows(ns);
        Assert.DoesNotContain(flows, l => l.Contains("sport=40000 dport=80 ", StringComparison.Ordinal) && l.Contains("src=10.99.0.2 ", StringComparison.Ordinal));
        Assert.Contains(flows, l => l.Contains("sport=40000 dport=81 ", StringComparison.Ordinal));
        Assert.Contains(flows, l => l.Contains("sport=40001 dport=80 ", StringComparison.Ordinal));
        Assert.Contains(flows, l => l.Contains("src=10.99.0.3 ", StringComparison.Ordinal));
        Assert.Equal([(1, 1, false)], log.Cleanups);
    }

    [Fact]
    public void EndInvolving_Ipv6Address_ItsFlowsGoFromTheIndex()
    {
        using var ns = new TestNamespace("pcgk-cta");
        var log = new RecordingLog();
        using var reaper = ns.Run(() => new ConntrackReaper(log));
        reaper.SetTunnelPrefixes([Tunnel, IPNetwork.Parse("fd99::/64")]);
        Track(ns, Insert6("tcp", 30000, 6000, target: "fd99::2"), Insert6("tcp", 30001, 6000, target: "fd99::3"));

        reaper.EndInvolving(IPAddress.Parse("fd99::2"));

        Assert.True(reaper.WaitIdle(Generous));
        var flows = Flows(ns, ipv6: true);
        Assert.False(Has(flows, "tcp", 30000, 6000));
        Assert.True(Has(flows, "tcp", 30001, 6000));
        Assert.Equal([(1, 1, false)], log.Cleanups);
    }
}
