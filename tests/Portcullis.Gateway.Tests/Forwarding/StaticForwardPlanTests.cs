using System.Net;
using Portcullis.Core.RateLimiting;
using Portcullis.Gateway.Forwarding;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Tests.Forwarding;

// The static forwards part planning its changes alone (no table): what a replacement removes and adds, which leases
// and pending removals it displaces, what a session's start and end take in and out, and that nothing changes
// before Commit.
public sealed class StaticForwardPlanTests
{
    private static readonly IPAddress Public = IPAddress.Parse("198.51.100.10");
    private readonly StaticForwardSet _set = new();
    private readonly LeaseBook _leases = new();
    private readonly SessionTable _sessions = new();

    private static StaticForwardRule Rule(ushort port, string peer, ushort internalPort = 80) =>
        new(Public, MappingProtocol.Tcp, port, peer, internalPort);

    private static PortKey Key(ushort port) => new(Public, MappingProtocol.Tcp, port);

    private PeerSession Connect(string peer, byte host)
    {
        var session = new PeerSession(peer, new IPAddress([10, 99, 0, host]), Public, new TokenBucket(10, 10, TimeSpan.Zero));
        _sessions.Add(session);
        return session;
    }

    [Fact]
    public void CheckAll_KeyTwiceOrAnotherPeersRule_Throws()
    {
        Assert.Throws<ArgumentException>(() => StaticForwardSet.CheckAll([Rule(8080, "p2"), Rule(8080, "p2", 81)], null));
        Assert.Throws<ArgumentException>(() => StaticForwardSet.CheckAll([Rule(8080, "p3")], "p2"));
        Assert.Equal(2, StaticForwardSet.CheckAll([Rule(8080, "p2"), Rule(8081, "p2")], "p2").Count);
    }

    [Fact]
    public void Diff_OneRule_NothingWhenInForce_ItsKeyWhenItReplacesAnother()
    {
        var (removed, added) = _set.Diff(Rule(8080, "p2"));
        Assert.Empty(removed);
        Assert.Equal([Rule(8080, "p2")], added);
        _set.SetRule(Rule(8080, "p2"));

        (removed, added) = _set.Diff(Rule(8080, "p2"));
        Assert.Empty(removed);
        Assert.Empty(added);
        (removed, added) = _set.Diff(Rule(8080, "p2", 81));
        Assert.Equal([Key(8080)], removed);
        Assert.Equal([Rule(8080, "p2", 81)], added);
    }

    [Fact]
    public void Diff_OnePeer_LeavesOthersAndTakesOverTheirKey()
    {
        _set.SetRule(Rule(8080, "p2"));
        _set.SetRule(Rule(8081, "p2"));
        _set.SetRule(Rule(9000, "p3"));

        var (removed, added) = _set.Diff(StaticForwardSet.CheckAll([Rule(8081, "p2", 81), Rule(9000, "p2")], "p2"), "p2");

        Assert.Equal(3, removed.Count);
        Assert.Equal(new HashSet<PortKey> { Key(8080), Key(8081), Key(9000) }, removed.ToHashSet());
        Assert.Equal([Rule(8081, "p2", 81), Rule(9000, "p2")], added);
    }

    [Fact]
    public void Diff_WholeSet_UnchangedRuleIsNeitherRemovedNorAdded()
    {
        _set.SetRule(Rule(8080, "p2"));
        _set.SetRule(Rule(9000, "p3"));

        var (removed, added) = _set.Diff(StaticForwardSet.CheckAll([Rule(8080, "p2")], null), null);

        Assert.Equal([Key(9000)], removed);
        Assert.Empty(added);
    }

    [Fact]
    public void Plan_OverLeaseAndPending_EvictsThemAndAddsLiveOnlyOnCommit()
    {
        var peer = Connect("p2", 2);
        var lease = new Mapping(peer, MappingProtocol.Tcp, 1000, 8080, null, TimeSpan.FromHours(1), TimeSpan.FromHours(1),
            TimeSpan.FromSeconds(5), 1000);
        _leases.Add(lease);
        var stale = StaticForwardSet.EntryOf(Rule(8081, "p9"), IPAddress.Parse("10.99.0.9"));
        _leases.Defer(stale, TimeSpan.MaxValue);

        var change = _set.Plan([], [Rule(8080, "p2"), Rule(8081, "p2"), Rule(8082, "p3")], _leases, _sessions, inKernel: true);

        Assert.Equal([lease], change.Evicted);
        Assert.Equal([Key(8081)], change.ClearedPending);
        Assert.Equal(new HashSet<ForwardingEntry> { lease.Entry, stale }, change.Remove.ToHashSet());
        Assert.Equal(new HashSet<PortKey> { Key(8080), Key(8081) }, change.Add.Select(PortKey.Of).ToHashSet()); // p3 is not connected: dark
        Assert.Empty(_set.Rules);
        _set.Commit(change);
        Assert.Equal(3, _set.Rules.Count);
        Assert.Equal(2, _set.Live.Count);
    }

    [Fact]
    public void Plan_NotInKernel_OnlyRulesChange()
    {
        Connect("p2", 2);

        var change = _set.Plan([], [Rule(8080, "p2")], _leases, _sessions, inKernel: false);
        _set.Commit(change);

        Assert.Empty(change.Add);
        Assert.Single(_set.Rules);
        Assert.Empty(_set.Live);
    }

    [Fact]
    public void ActivationThenTakeLiveOf_ThePeersRulesInAndOut()
    {
        _set.SetRule(Rule(8080, "p2"));
        _set.SetRule(Rule(9000, "p3"));
        var peer = Connect("p2", 2);

        var change = _set.Activation(peer, _leases)!;
        _set.Commit(change);

        var entry = Assert.Single(change.Add);
        Assert.Equal(peer.TunnelAddress, entry.TunnelAddress);
        Assert.Null(_set.Activation(peer, _leases)); // already live
        Assert.Equal([entry], _set.TakeLiveOf("p2"));
        Assert.Empty(_set.Live);
        Assert.Equal("p2", _set.OwnerOf(Key(8080))); // dark, still holds its key
    }
}
