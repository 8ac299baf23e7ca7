using System.Net;
using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Kernel;
using Portcullis.PortMapping;
using static Portcullis.Gateway.Tests.Forwarding.ForwardingHarness;

namespace Portcullis.Gateway.Tests.Forwarding;

public sealed class StaticForwardTests
{
    private static StaticForwardRule Rule(int host, MappingProtocol protocol, ushort external, ushort? internalPort = null) =>
        new(PublicAddress, protocol, external, PeerId(host), internalPort ?? external);

    [Fact]
    public void SetStaticForwards_PeerNotConnected_DarkButKnown()
    {
        using var h = new ForwardingHarness();

        h.Service.SetStaticForwards([Rule(2, MappingProtocol.Tcp, 30000)]);

        Assert.Empty(h.Table.Entries);
        var state = Assert.Single(h.Service.StaticForwards);
        Assert.False(state.Live);
        Assert.Equal(0, h.Service.LiveStaticForwardCount);
    }

    [Fact]
    public void PeerSessionStarted_WithStaticForward_InKernelAtItsAddressWithoutTimeout()
    {
        using var h = new ForwardingHarness();
        h.Service.SetStaticForwards([Rule(2, MappingProtocol.Tcp, 30000, 8080)]);

        h.Connect(2);

        var entry = Assert.Single(h.Table.Entries);
        Assert.Equal(new ForwardingEntry(PublicAddress, MappingProtocol.Tcp, 30000, TunnelAddress(2), 8080, PeerId(2), null), entry);
        Assert.True(Assert.Single(h.Service.StaticForwards).Live);
    }

    [Fact]
    public void PeerSessionEnded_StaticForwardLeavesKernelAndComesBackOnReconnect()
    {
        using var h = new ForwardingHarness();
        h.Service.SetStaticForwards([Rule(2, MappingProtocol.Tcp, 30000), Rule(2, MappingProtocol.Udp, 30000)]);
        h.Connect(2);
        Assert.Equal(2, h.Table.Entries.Count);

        h.Disconnect(2);
        Assert.Empty(h.Table.Entries);
        Assert.All(h.Service.StaticForwards, s => Assert.False(s.Live));

        h.Connect(2);
        Assert.Equal(2, h.Table.Entries.Count);
        Assert.All(h.Table.Entries, e => Assert.Equal(30000, e.PublicPort));
    }

    [Fact]
    public void PeerSessionEnded_OtherPeersStaticForwardStays()
    {
        using var h = new ForwardingHarness();
        h.Service.SetStaticForwards([Rule(2, MappingProtocol.Tcp, 30000), Rule(3, MappingProtocol.Tcp, 30001)]);
        h.Connect(2);
        h.Connect(3);

        h.Disconnect(2);

        var left = Assert.Single(h.Table.Entries);
        Assert.Equal(PeerId(3), left.Owner);
    }

    [Fact]
    public void Map_StaticPortInsideRangeWhileDark_NeverHandedOut()
    {
        // A range of two ports: one is static (its peer offline), so every dynamic mapping must get the other.
        using var h = new ForwardingHarness(new ForwardingPolicy { PortRange = new PortRange(40000, 40001), MaxPerPeer = 4 });
        h.Service.SetStaticForwards([Rule(2, MappingProtocol.Tcp, 40000)]);
        var bob = h.Connect(3);

        var first = h.Map(bob, MappingProtocol.Tcp, 8080);
        var second = h.Map(bob, MappingProtocol.Tcp, 8081);

        Assert.Equal(MapStatus.Success, first.Status);
        Assert.Equal(40001, first.ExternalPort);
        Assert.Equal(MapStatus.NoResources, second.Status);
    }

    [Fact]
    public void Map_SuggestedStaticPort_NotGranted()
    {
        using var h = new ForwardingHarness(new ForwardingPolicy { AllowSuggestedPort = true });
        h.Service.SetStaticForwards([Rule(2, MappingProtocol.Tcp, 30000)]);
        var bob = h.Connect(3);

        var result = h.Map(bob, MappingProtocol.Tcp, 8080, suggested: 30000);

        Assert.Equal(MapStatus.Success, result.Status);
        Assert.NotEqual(30000, result.ExternalPort);
    }

    [Fact]
    public void Map_StaticPortOtherProtocol_NotHandedToAnotherPeer()
    {
        // The static forward's owner may want UDP on its TCP port one day: nobody else gets that half.
        using var h = new ForwardingHarness(new ForwardingPolicy { PortRange = new PortRange(40000, 40000), AllowSuggestedPort = true });
        h.Service.SetStaticForwards([Rule(2, MappingProtocol.Tcp, 40000)]);
        var bob = h.Connect(3);

        Assert.Equal(MapStatus.NoResources, h.Map(bob, MappingProtocol.Udp, 8080).Status);
        Assert.Equal(MapStatus.NoResources, h.Map(bob, MappingProtocol.Udp, 8081, suggested: 40000).Status);
    }

    [Fact]
    public void AddStaticForward_PortHeldByDynamicMapping_MappingRevokedInSameTransaction()
    {
        using var h = new ForwardingHarness(new ForwardingPolicy { PortRange = new PortRange(40000, 40000) });
        var bob = h.Connect(3);
        h.Connect(2);
        Assert.Equal(40000, h.Map(bob, MappingProtocol.Tcp, 8080).ExternalPort);
        var updates = h.Table.Updates.Count;

        h.Service.AddStaticForward(Rule(2, MappingProtocol.Tcp, 40000));

        Assert.Equal(updates + 1, h.Table.Updates.Count);
        var entry = Assert.Single(h.Table.Entries);
        Assert.Equal(PeerId(2), entry.Owner);
        Assert.Empty(h.Service.Mappings);
    }

    [Fact]
    public void RemoveStaticForward_Live_LeavesKernelAndPortIsFreeAgain()
    {
        using var h = new ForwardingHarness(new ForwardingPolicy { PortRange = new PortRange(40000, 40000) });
        h.Service.SetStaticForwards([Rule(2, MappingProtocol.Tcp, 40000)]);
        h.Connect(2);
        var bob = h.Connect(3);

        Assert.True(h.Service.RemoveStaticForward(PublicAddress, MappingProtocol.Tcp, 40000));
        Assert.False(h.Service.RemoveStaticForward(PublicAddress, MappingProtocol.Tcp, 40000));

        Assert.Empty(h.Table.Entries);
        Assert.Empty(h.Service.StaticForwards);
        Assert.Equal(40000, h.Map(bob, MappingProtocol.Tcp, 8080).ExternalPort);
    }

    [Fact]
    public void RemoveStaticForwardsOf_RemovesOnlyThatPeersRules()
    {
        using var h = new ForwardingHarness();
        h.Service.SetStaticForwards([Rule(2, MappingProtocol.Tcp, 30000), Rule(2, MappingProtocol.Udp, 30000), Rule(3, MappingProtocol.Tcp, 30001)]);
        h.Connect(2);

        Assert.Equal(2, h.Service.RemoveStaticForwardsOf(PeerId(2)));

        Assert.Empty(h.Table.Entries);
        Assert.Equal(PeerId(3), Assert.Single(h.Service.StaticForwards).Rule.PeerId);
    }

    [Fact]
    public void SetStaticForwards_ChangedInternalPortOfLiveRule_ReplacedInKernel()
    {
        using var h = new ForwardingHarness();
        h.Service.SetStaticForwards([Rule(2, MappingProtocol.Tcp, 30000, 8080)]);
        h.Connect(2);

        h.Service.SetStaticForwards([Rule(2, MappingProtocol.Tcp, 30000, 9090)]);

        Assert.Equal(9090, Assert.Single(h.Table.Entries).InternalPort);
    }

    [Fact]
    public void SetStaticForwards_KernelRefuses_NothingChanges()
    {
        using var h = new ForwardingHarness();
        h.Connect(2);
        h.Table.Failing = true;

        Assert.Throws<ForwardingTableException>(() => h.Service.SetStaticForwards([Rule(2, MappingProtocol.Tcp, 30000)]));

        Assert.Empty(h.Service.StaticForwards);
        Assert.Empty(h.Table.Entries);
    }

    [Fact]
    public void SetStaticForwards_InvalidRules_Rejected()
    {
        using var h = new ForwardingHarness();

        Assert.Throws<ArgumentException>(() => h.Service.SetStaticForwards([Rule(2, MappingProtocol.Tcp, 0)]));
        Assert.Throws<ArgumentException>(() => h.Service.SetStaticForwards([Rule(2, MappingProtocol.Tcp, 1), Rule(3, MappingProtocol.Tcp, 1)]));
        Assert.Throws<ArgumentException>(() => h.Service.SetStaticForwards([Rule(2, MappingProtocol.Tcp, 1) with { PeerId = "bad id\"" }]));
        Assert.Throws<ArgumentException>(() => h.Service.SetStaticForwards([Rule(2, MappingProtocol.Tcp, 1) with { PublicAddress = IPAddress.IPv6Loopback }]));
        Assert.Empty(h.Service.StaticForwards);
    }

    [Fact]
    public void Start_ReconcilesAwayEverythingBeforeSessions_StaticsReturnWithTheirSession()
    {
        // After a crash: the kernel still holds a static element and a dynamic lease of the previous run.
        var table = new InMemoryForwardingTable();
        table.Seed(new ForwardingEntry(PublicAddress, MappingProtocol.Tcp, 30000, TunnelAddress(2), 30000, PeerId(2), null));
        table.Seed(new ForwardingEntry(PublicAddress, MappingProtocol.Udp, 45000, TunnelAddress(2), 6881, PeerId(2), TimeSpan.FromSeconds(60)));
        using var h = new ForwardingHarness(table: table, start: false);
        h.Service.SetStaticForwards([Rule(2, MappingProtocol.Tcp, 30000)]);

        h.Service.Start();
        Assert.Empty(table.Entries);

        h.Connect(2);
        Assert.Equal(30000, Assert.Single(table.Entries).PublicPort);
    }

    [Fact]
    public void Reconcile_KeepsLiveStaticRemovesStranger()
    {
        using var h = new ForwardingHarness();
        h.Service.SetStaticForwards([Rule(2, MappingProtocol.Tcp, 30000)]);
        h.Connect(2);
        h.Table.Seed(new ForwardingEntry(PublicAddress, MappingProtocol.Tcp, 31000, TunnelAddress(9), 31000, "stranger", null));

        h.Service.Reconcile();

        Assert.Equal(30000, Assert.Single(h.Table.Entries).PublicPort);
    }

    [Fact]
    public void PeerSessionEnded_KernelRefusesStaticRemoval_RetriedUntilGone()
    {
        using var h = new ForwardingHarness();
        h.Service.SetStaticForwards([Rule(2, MappingProtocol.Tcp, 30000)]);
        h.Connect(2);
        h.Table.FailNext = 1;

        h.Disconnect(2);
        Assert.Single(h.Table.Entries);
        Assert.False(Assert.Single(h.Service.StaticForwards).Live);

        h.Time.Advance(LeaseExpiry.RemovalRetryInterval + TimeSpan.FromSeconds(1));
        Assert.Empty(h.Table.Entries);
    }

    [Fact]
    public void PeerSessionEnded_StaticForwardAndMappings_LeaveTheKernelInOneTransaction()
    {
        using var h = new ForwardingHarness();
        h.Service.SetStaticForwards([Rule(2, MappingProtocol.Tcp, 30000)]);
        var client = h.Connect(2);
        Assert.Equal(MapStatus.Success, h.Map(client, MappingProtocol.Udp, 4000).Status);
        Assert.Equal(MapStatus.Success, h.Map(client, MappingProtocol.Tcp, 4001).Status);
        var before = h.Table.Updates.Count;

        h.Disconnect(2);

        Assert.Empty(h.Table.Entries);
        var update = Assert.Single(h.Table.Updates.Skip(before));
        Assert.Equal(3, update.Remove.Length);
        Assert.Empty(update.Add);
    }

    [Fact]
    public void PeerSessionEnded_KernelRefusesTheOneTransaction_StaticAndMappingsRetriedTogether()
    {
        using var h = new ForwardingHarness();
        h.Service.SetStaticForwards([Rule(2, MappingProtocol.Tcp, 30000)]);
        var client = h.Connect(2);
        Assert.Equal(MapStatus.Success, h.Map(client, MappingProtocol.Udp, 4000).Status);
        h.Table.FailNext = 1;

        h.Disconnect(2);
        Assert.Equal(2, h.Table.Entries.Count);
        Assert.Empty(h.Service.Mappings);

        h.Time.Advance(LeaseExpiry.RemovalRetryInterval + TimeSpan.FromSeconds(1));
        Assert.Empty(h.Table.Entries);
    }

    [Fact]
    public void PeerSessionStarted_AfterDeferredRemoval_ReplacesPendingElementInOneTransaction()
    {
        using var h = new ForwardingHarness();
        h.Service.SetStaticForwards([Rule(2, MappingProtocol.Tcp, 30000)]);
        h.Connect(2);
        h.Table.FailNext = 1;
        h.Disconnect(2);

        h.Service.PeerSessionStarted(PeerId(2), TunnelAddress(7));

        var entry = Assert.Single(h.Table.Entries);
        Assert.Equal(TunnelAddress(7), entry.TunnelAddress);
        Assert.True(Assert.Single(h.Service.StaticForwards).Live);
    }
}
