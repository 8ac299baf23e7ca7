using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Portcullis.Core.RateLimiting;
using Portcullis.Gateway.Forwarding;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Tests.Forwarding;

// The allocator alone: no table, no service; who holds what is a dictionary the test fills.
public sealed class PortAllocatorTests
{
    private static readonly IPAddress Public = IPAddress.Parse("198.51.100.10");
    private static readonly TimeSpan Now = TimeSpan.FromMinutes(10);

    private readonly Dictionary<PortKey, string> _held = [];
    private readonly PortAllocator _allocator;

    public PortAllocatorTests() =>
        _allocator = new PortAllocator([Public], key => _held.GetValueOrDefault(key), new Random(7), NullLogger.Instance);

    private static ForwardingPolicy Policy(ushort first, ushort last) => new()
    {
        PortRange = new PortRange(first, last),
        BlockedExternalPorts = new HashSet<ushort>(),
        Quarantine = TimeSpan.FromMinutes(5),
        ReconnectGrace = TimeSpan.FromMinutes(5),
    };

    private static PeerSession Peer(string id, int host) =>
        new(id, new IPAddress([10, 99, 0, (byte)host]), Public, new TokenBucket(10, 10, TimeSpan.Zero));

    private static MapRequest Request(PeerSession peer, MappingProtocol protocol, ushort internalPort, ushort suggested = 0) => new()
    {
        Client = peer.TunnelAddress,
        Protocol = protocol,
        InternalPort = internalPort,
        Lifetime = TimeSpan.FromHours(1),
        SuggestedExternalPort = suggested,
    };

    private static Mapping MappingOf(PeerSession peer, MappingProtocol protocol, ushort internalPort, ushort publicPort) =>
        new(peer, protocol, internalPort, publicPort, null, TimeSpan.FromHours(1), Now + TimeSpan.FromHours(1), TimeSpan.FromSeconds(5), internalPort);

    private ushort Choose(PeerSession peer, MappingProtocol protocol, ushort internalPort, ForwardingPolicy policy, out MapStatus status, TimeSpan? at = null)
    {
        status = _allocator.Choose(peer, Request(peer, protocol, internalPort), policy, at ?? Now, out var port);
        return port;
    }

    [Fact]
    public void Choose_OtherHalfHeldByAnother_RandomPortSkipsIt()
    {
        var policy = Policy(30000, 30001);
        _held[new PortKey(Public, MappingProtocol.Udp, 30000)] = "p9";

        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(30001, Choose(Peer("p2", 2), MappingProtocol.Tcp, 1000, policy, out var status));
            Assert.Equal(MapStatus.Success, status);
        }
    }

    [Fact]
    public void Choose_EveryPortHeldOrOwn_NoResources()
    {
        var policy = Policy(30000, 30001);
        _held[new PortKey(Public, MappingProtocol.Tcp, 30000)] = "p9";
        _allocator.ReserveOwnPort(MappingProtocol.Udp, 30001);

        Choose(Peer("p2", 2), MappingProtocol.Tcp, 1000, policy, out var status);

        Assert.Equal(MapStatus.NoResources, status);
    }

    [Fact]
    public void Released_PortQuarantinedForOthersUntilItLapses_NotForItsPeer()
    {
        var policy = Policy(30000, 30001);
        var owner = Peer("p2", 2);
        _allocator.ReserveOwnPort(MappingProtocol.Tcp, 30001); // leaves 30000 as the only candidate
        _allocator.Released(MappingOf(owner, MappingProtocol.Tcp, 1000, 30000), remember: false, policy, Now);

        Choose(Peer("p3", 3), MappingProtocol.Tcp, 1000, policy, out var other);
        Assert.Equal(MapStatus.NoResources, other);
        Assert.Equal(30000, Choose(owner, MappingProtocol.Tcp, 2000, policy, out var own));
        Assert.Equal(MapStatus.Success, own);
        Assert.Equal(30000, Choose(Peer("p3", 3), MappingProtocol.Tcp, 1000, policy, out _, Now + TimeSpan.FromMinutes(6)));
        Assert.Equal(1, _allocator.QuarantinedCount(Now));
        Assert.Equal(0, _allocator.QuarantinedCount(Now + TimeSpan.FromMinutes(6)));
    }

    [Fact]
    public void Released_Remembered_SamePortComesBackForEitherProtocolUntilGranted()
    {
        var policy = Policy(30000, 40000);
        var peer = Peer("p2", 2);
        _allocator.Released(MappingOf(peer, MappingProtocol.Tcp, 1000, 34567), remember: true, policy, Now);

        Assert.Equal(34567, Choose(peer, MappingProtocol.Udp, 1000, policy, out _));
        Assert.Equal(34567, Choose(peer, MappingProtocol.Tcp, 1000, policy, out _));
        _allocator.Granted(new LeaseKey("p2", MappingProtocol.Tcp, 1000));
        // Granted once, the memory is spent: the next choice is random again (one in 10 001 to land on it).
        Assert.NotEqual(34567, Choose(peer, MappingProtocol.Tcp, 1000, policy, out _));
    }

    [Fact]
    public void Choose_PairsOtherHalfTakenByAnother_SplitAndCounted()
    {
        var policy = Policy(30000, 40000);
        var peer = Peer("p2", 2);
        peer.Mappings.Add(MappingOf(peer, MappingProtocol.Tcp, 1000, 35000));
        _held[new PortKey(Public, MappingProtocol.Tcp, 35000)] = "p2";
        _held[new PortKey(Public, MappingProtocol.Udp, 35000)] = "static-owner";

        var port = Choose(peer, MappingProtocol.Udp, 1000, policy, out var status);

        Assert.Equal(MapStatus.Success, status);
        Assert.NotEqual(35000, port);
        Assert.Equal(1, _allocator.SplitPairs);
    }

    [Fact]
    public void Choose_PairsOtherHalfFree_SamePort()
    {
        var policy = Policy(30000, 40000);
        var peer = Peer("p2", 2);
        peer.Mappings.Add(MappingOf(peer, MappingProtocol.Tcp, 1000, 35000));
        _held[new PortKey(Public, MappingProtocol.Tcp, 35000)] = "p2";

        Assert.Equal(35000, Choose(peer, MappingProtocol.Udp, 1000, policy, out _));
        Assert.Equal(0, _allocator.SplitPairs);
    }
}
