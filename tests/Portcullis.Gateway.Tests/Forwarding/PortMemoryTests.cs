using System.Net;
using Portcullis.Core.RateLimiting;
using Portcullis.Gateway.Forwarding;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Tests.Forwarding;

// The allocator's memory of released ports alone: no allocator, no table, no service.
public sealed class PortMemoryTests
{
    private static readonly IPAddress Public = IPAddress.Parse("198.51.100.10");
    private static readonly IPAddress Public6 = IPAddress.Parse("2001:db8::10");
    private static readonly TimeSpan Now = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan Five = TimeSpan.FromMinutes(5);

    private readonly PortMemory _memory = new();

    private static ForwardingPolicy Policy(TimeSpan quarantine, TimeSpan grace) => new()
    {
        PortRange = new PortRange(30000, 40000),
        BlockedExternalPorts = new HashSet<ushort>(),
        Quarantine = quarantine,
        ReconnectGrace = grace,
    };

    private static PeerSession Peer(string id, IPAddress? publicAddress = null) =>
        new(id, IPAddress.Parse("10.99.0.2"), publicAddress ?? Public, new TokenBucket(10, 10, TimeSpan.Zero));

    private static Mapping MappingOf(PeerSession peer, MappingProtocol protocol, ushort internalPort, ushort publicPort, IPEndPoint? remote = null) =>
        new(peer, protocol, internalPort, publicPort, null, TimeSpan.FromHours(1), Now + TimeSpan.FromHours(1), TimeSpan.FromSeconds(5), internalPort, remote: remote);

    [Fact]
    public void Released_Quarantine_ClosedToOthersForItsTimeNeverToItsPeer()
    {
        _memory.Released(MappingOf(Peer("p2"), MappingProtocol.Tcp, 1000, 30000), remember: false, Policy(Five, Five), Now);

        Assert.True(_memory.IsQuarantinedFor(30000, "p3", Now));
        Assert.True(_memory.IsQuarantinedFor(30000, "p3", Now + Five - TimeSpan.FromTicks(1)));
        Assert.False(_memory.IsQuarantinedFor(30000, "p3", Now + Five));
        Assert.False(_memory.IsQuarantinedFor(30000, "p2", Now));
        Assert.False(_memory.IsQuarantinedFor(30001, "p3", Now));
    }

    [Fact]
    public void Released_NoQuarantineInPolicy_NothingWithheld()
    {
        _memory.Released(MappingOf(Peer("p2"), MappingProtocol.Udp, 1000, 30000), remember: false, Policy(TimeSpan.Zero, Five), Now);

        Assert.False(_memory.IsQuarantinedFor(30000, "p3", Now));
        Assert.Equal(0, _memory.QuarantinedCount(Now));
    }

    [Fact]
    public void QuarantinedCount_DropsLapsedEntries()
    {
        var policy = Policy(Five, Five);
        _memory.Released(MappingOf(Peer("p2"), MappingProtocol.Tcp, 1000, 30000), remember: false, policy, Now);
        _memory.Released(MappingOf(Peer("p3"), MappingProtocol.Udp, 1000, 30001), remember: false, policy, Now + TimeSpan.FromMinutes(1));

        Assert.Equal(2, _memory.QuarantinedCount(Now));
        Assert.Equal(1, _memory.QuarantinedCount(Now + Five));
        Assert.Equal(0, _memory.QuarantinedCount(Now + TimeSpan.FromMinutes(6)));
    }

    [Fact]
    public void RememberedPort_EitherProtocolOfTheInternalPort_UntilGrantedOrLapsed()
    {
        var peer = Peer("p2");
        _memory.Released(MappingOf(peer, MappingProtocol.Tcp, 1000, 34567), remember: true, Policy(Five, Five), Now);

        Assert.Equal(34567, _memory.RememberedPort(peer, MappingProtocol.Tcp, 1000, Now));
        Assert.Equal(34567, _memory.RememberedPort(peer, MappingProtocol.Udp, 1000, Now));
        Assert.Equal(0, _memory.RememberedPort(peer, MappingProtocol.Tcp, 1001, Now));
        Assert.Equal(0, _memory.RememberedPort(Peer("p3"), MappingProtocol.Tcp, 1000, Now));
        Assert.Equal(0, _memory.RememberedPort(peer, MappingProtocol.Tcp, 1000, Now + Five));

        _memory.Granted(new LeaseKey("p2", MappingProtocol.Tcp, 1000));
        Assert.Equal(0, _memory.RememberedPort(peer, MappingProtocol.Udp, 1000, Now));
    }

    [Fact]
    public void RememberedPort_OwnProtocolWinsOverThePairsOther()
    {
        var peer = Peer("p2");
        var policy = Policy(Five, Five);
        _memory.Released(MappingOf(peer, MappingProtocol.Udp, 1000, 31111), remember: true, policy, Now);
        _memory.Released(MappingOf(peer, MappingProtocol.Tcp, 1000, 32222), remember: true, policy, Now);

        Assert.Equal(31111, _memory.RememberedPort(peer, MappingProtocol.Udp, 1000, Now));
        Assert.Equal(32222, _memory.RememberedPort(peer, MappingProtocol.Tcp, 1000, Now));
    }

    [Fact]
    public void RememberedPort_OnlyOnTheAddressItWasHeldOn()
    {
        _memory.Released(MappingOf(Peer("p2"), MappingProtocol.Tcp, 1000, 34567), remember: true, Policy(Five, Five), Now);

        // The same peer back with another public address (a dedicated one now) does not get it there.
        Assert.Equal(0, _memory.RememberedPort(Peer("p2", IPAddress.Parse("198.51.100.20")), MappingProtocol.Tcp, 1000, Now));
    }

    [Fact]
    public void RememberedPort_Ipv6FacetKeptApartFromIpv4()
    {
        var peer = Peer("p2");
        var facet = peer.AddIpv6(IPAddress.Parse("fd00::2"), Public6, routed: false);
        _memory.Released(MappingOf(facet, MappingProtocol.Tcp, 1000, 35555), remember: true, Policy(Five, Five), Now);

        Assert.Equal(35555, _memory.RememberedPort(facet, MappingProtocol.Tcp, 1000, Now));
        Assert.Equal(0, _memory.RememberedPort(peer, MappingProtocol.Tcp, 1000, Now));
    }

    [Fact]
    public void Released_NotRememberedWhenNotAskedOrPeerMappingOrNoGrace()
    {
        var peer = Peer("p2");
        _memory.Released(MappingOf(peer, MappingProtocol.Tcp, 1000, 30000), remember: false, Policy(Five, Five), Now);
        _memory.Released(MappingOf(peer, MappingProtocol.Tcp, 2000, 30001, new IPEndPoint(IPAddress.Parse("192.0.2.100"), 8080)), remember: true, Policy(Five, Five), Now);
        _memory.Released(MappingOf(peer, MappingProtocol.Tcp, 3000, 30002), remember: true, Policy(Five, TimeSpan.Zero), Now);

        Assert.Equal(0, _memory.RememberedPort(peer, MappingProtocol.Tcp, 1000, Now));
        Assert.Equal(0, _memory.RememberedPort(peer, MappingProtocol.Tcp, 2000, Now));
        Assert.Equal(0, _memory.RememberedPort(peer, MappingProtocol.Tcp, 3000, Now));
    }

    [Fact]
    public void Sweep_DropsLapsedMemoriesKeepsLiveOnes()
    {
        var peer = Peer("p2");
        _memory.Released(MappingOf(peer, MappingProtocol.Tcp, 1000, 30000), remember: true, Policy(Five, Five), Now);
        _memory.Released(MappingOf(peer, MappingProtocol.Tcp, 2000, 30001), remember: true, Policy(Five, Five), Now + TimeSpan.FromMinutes(2));

        _memory.Sweep(Now + Five);

        Assert.Equal(1, _memory.QuarantinedCount(Now + Five));
        Assert.Equal(30001, _memory.RememberedPort(peer, MappingProtocol.Tcp, 2000, Now + Five));
    }
}
