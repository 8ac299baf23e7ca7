using Microsoft.Extensions.Logging;
using Portcullis.Gateway.Forwarding;
using Portcullis.PortMapping;
using static Portcullis.Gateway.Tests.Forwarding.ForwardingHarness;

namespace Portcullis.Gateway.Tests.Forwarding;

/// <summary>One listen port, one public port: a peer's TCP and UDP mappings of one internal port share their public port.</summary>
public sealed class PairingTests
{
    [Theory]
    [InlineData(MappingProtocol.Tcp)]
    [InlineData(MappingProtocol.Udp)]
    public void Map_OtherProtocolOfMappedInternalPort_SamePortWithoutSuggestion(MappingProtocol first)
    {
        using var h = new ForwardingHarness();
        var client = h.Connect(2);
        var second = first == MappingProtocol.Tcp ? MappingProtocol.Udp : MappingProtocol.Tcp;

        var a = h.Map(client, first, 6881);
        var b = h.Map(client, second, 6881);

        Assert.Equal(MapStatus.Success, b.Status);
        Assert.Equal(a.ExternalPort, b.ExternalPort);
        Assert.Equal(2, h.Table.Entries.Count(e => e.PublicPort == a.ExternalPort && e.InternalPort == 6881));
        Assert.Equal(0, h.Service.SplitPairs);
    }

    [Fact]
    public void Map_PairWithSuggestionOfAnotherPort_PairWinsUnlessPreferFailure()
    {
        using var h = new ForwardingHarness(new ForwardingPolicy { AllowSuggestedPort = true });
        var client = h.Connect(2);
        var tcp = h.Map(client, MappingProtocol.Tcp, 6881).ExternalPort;
        var other = (ushort)(tcp == 59999 ? 20000 : tcp + 1);

        // libtorrent and natpmpc suggest a port of their own; the pair still decides.
        Assert.Equal(tcp, h.Map(client, MappingProtocol.Udp, 6881, suggested: other).ExternalPort);
        // PCP's PREFER_FAILURE means "that port or nothing": the client gets what it insisted on.
        Assert.Equal(other, h.Map(client, MappingProtocol.Udp, 6882, suggested: other, preferFailure: true).ExternalPort);
        var insisted = h.Map(client, MappingProtocol.Tcp, 6882, suggested: (ushort)(other == 59999 ? 20000 : other + 1), preferFailure: true);
        Assert.Equal(MapStatus.Success, insisted.Status);
        Assert.NotEqual(other, insisted.ExternalPort);
    }

    [Fact]
    public void Map_NearlyFullRange_RandomChoiceKeepsEveryPairPossible()
    {
        // Ten ports; nine peers each map TCP only. Every UDP half stays with its TCP owner, and the tenth port, the
        // only one free for both, is what the walk finds for a newcomer, for both of its protocols.
        using var h = new ForwardingHarness(new ForwardingPolicy { PortRange = new PortRange(30000, 30009) });
        var held = new HashSet<ushort>();
        for (var host = 2; host <= 10; host++)
            held.Add(h.Map(h.Connect(host), MappingProtocol.Tcp, 8000).ExternalPort);
        Assert.Equal(9, held.Count);
        var newcomer = h.Connect(11);
        var last = Enumerable.Range(30000, 10).Select(p => (ushort)p).Single(p => !held.Contains(p));

        Assert.Equal(last, h.Map(newcomer, MappingProtocol.Udp, 9000).ExternalPort);
        Assert.Equal(last, h.Map(newcomer, MappingProtocol.Tcp, 9000).ExternalPort);
        Assert.Equal(MapStatus.NoResources, h.Map(h.Connect(12), MappingProtocol.Udp, 9000).Status);
        // Each TCP owner still completes its pair on the crowded range.
        for (var host = 2; host <= 10; host++)
        {
            var udp = h.Map(TunnelAddress(host), MappingProtocol.Udp, 8000);
            Assert.Equal(MapStatus.Success, udp.Status);
            Assert.Contains(udp.ExternalPort, held);
        }
        Assert.Equal(0, h.Service.SplitPairs);
    }

    [Fact]
    public void Map_SecondPeerSuggestsAPairedPort_NeverGetsEitherProtocol()
    {
        using var h = new ForwardingHarness(new ForwardingPolicy { AllowSuggestedPort = true });
        var alice = h.Connect(2);
        var bob = h.Connect(3);
        var port = h.Map(alice, MappingProtocol.Tcp, 6881).ExternalPort;

        Assert.NotEqual(port, h.Map(bob, MappingProtocol.Udp, 6881, suggested: port).ExternalPort);
        Assert.NotEqual(port, h.Map(bob, MappingProtocol.Tcp, 6882, suggested: port).ExternalPort);
        Assert.Equal(MapStatus.CannotProvideExternal, h.Map(bob, MappingProtocol.Udp, 6883, suggested: port, preferFailure: true).Status);
        Assert.Equal(port, h.Map(alice, MappingProtocol.Udp, 6881).ExternalPort);
    }

    [Fact]
    public void Quarantine_OneProtocolReleased_OtherPeersLockedOutOfBothOwnerGetsItBack()
    {
        using var h = new ForwardingHarness(new ForwardingPolicy { PortRange = new PortRange(30000, 30000) });
        var alice = h.Connect(2);
        var bob = h.Connect(3);
        Assert.Equal(30000, h.Map(alice, MappingProtocol.Tcp, 6881).ExternalPort);
        h.Delete(alice, MappingProtocol.Tcp, 6881);

        Assert.Equal(MapStatus.NoResources, h.Map(bob, MappingProtocol.Udp, 6881).Status);
        Assert.Equal(MapStatus.NoResources, h.Map(bob, MappingProtocol.Tcp, 6881).Status);
        // Quarantine keeps a port from others, not from the peer that let it go.
        Assert.Equal(30000, h.Map(alice, MappingProtocol.Udp, 6881).ExternalPort);
    }

    [Fact]
    public void ReconnectGrace_PairComesBackInEitherOrder()
    {
        using var h = new ForwardingHarness(new ForwardingPolicy { PortRange = new PortRange(30000, 30001), Quarantine = TimeSpan.Zero });
        var alice = h.Connect(2);
        var port = h.Map(alice, MappingProtocol.Tcp, 6881).ExternalPort;
        Assert.Equal(port, h.Map(alice, MappingProtocol.Udp, 6881).ExternalPort);
        h.Disconnect(2);
        h.Time.Advance(TimeSpan.FromMinutes(1));
        alice = h.Connect(2);

        // UDP first this time; then TCP pairs with it. Both on the remembered port.
        Assert.Equal(port, h.Map(alice, MappingProtocol.Udp, 6881).ExternalPort);
        Assert.Equal(port, h.Map(alice, MappingProtocol.Tcp, 6881).ExternalPort);
    }

    [Fact]
    public void ReconnectGrace_OnlyTcpWasHeld_UdpAfterReconnectGetsTheRememberedPort()
    {
        using var h = new ForwardingHarness(new ForwardingPolicy { PortRange = new PortRange(30000, 30009), Quarantine = TimeSpan.Zero });
        var alice = h.Connect(2);
        var port = h.Map(alice, MappingProtocol.Tcp, 6881).ExternalPort;
        h.Disconnect(2);
        alice = h.Connect(2);

        Assert.Equal(port, h.Map(alice, MappingProtocol.Udp, 6881).ExternalPort);
        Assert.Equal(port, h.Map(alice, MappingProtocol.Tcp, 6881).ExternalPort);
    }

    [Fact]
    public void Map_OtherHalfTakenByAStaticForward_ValidMappingElsewhereAndTheSplitCounted()
    {
        using var h = new ForwardingHarness(new ForwardingPolicy { PortRange = new PortRange(30000, 30001), AuditLog = true });
        var alice = h.Connect(2);
        var port = h.Map(alice, MappingProtocol.Tcp, 6881).ExternalPort;
        // An operator's one-protocol static forward for bob lands on the UDP half of alice's pair.
        h.Service.AddStaticForward(new StaticForwardRule(PublicAddress, MappingProtocol.Udp, port, PeerId(3), 5000));

        var udp = h.Map(alice, MappingProtocol.Udp, 6881);

        Assert.Equal(MapStatus.Success, udp.Status);
        Assert.NotEqual(port, udp.ExternalPort);
        Assert.Equal(1, h.Service.SplitPairs);
        Assert.Contains(h.Logger.Lines, l => l.Id.Id == 4008 && l.Level == LogLevel.Warning);
        Assert.Contains(h.Logger.Lines, l => l.Id.Id == 4043);
    }
}
