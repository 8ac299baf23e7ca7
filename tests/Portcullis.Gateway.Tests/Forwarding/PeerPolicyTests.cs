using System.Net;
using Portcullis.Gateway.Forwarding;
using Portcullis.PortMapping;
using static Portcullis.Gateway.Tests.Forwarding.ForwardingHarness;

namespace Portcullis.Gateway.Tests.Forwarding;

// PCP PEER in the forwarding service: an explicit outbound mapping that is a lease like MAP's, in its own kernel map.
public sealed class PeerPolicyTests
{
    private static readonly IPEndPoint Remote = new(IPAddress.Parse("192.0.2.100"), 80);

    [Fact]
    public void Peer_New_AnswersPublicEndpointAndWritesAnOutboundEntryForTheFlow()
    {
        using var h = new ForwardingHarness();
        var client = h.Connect(2);

        var result = h.Peer(client, MappingProtocol.Tcp, 5000, Remote, lifetimeSeconds: 600);

        Assert.Equal(MapStatus.Success, result.Status);
        Assert.Equal(PublicAddress, result.ExternalAddress);
        Assert.InRange(result.ExternalPort, 20000, 59999);
        Assert.Equal(TimeSpan.FromSeconds(600), result.Lifetime);
        var entry = Assert.Single(h.Table.Entries);
        Assert.Equal(Remote, entry.Remote);
        Assert.Equal(client, entry.TunnelAddress);
        Assert.Equal(5000, entry.InternalPort);
        Assert.Equal((PublicAddress, MappingProtocol.Tcp, result.ExternalPort), entry.Key);
        Assert.Equal(PeerId(2), entry.Owner);
    }

    [Fact]
    public void Peer_AndMap_DrawFromTheSamePortsAndNeverShareOne()
    {
        // Two ports in all: MAP takes one, PEER the other, and then nothing is left for either.
        using var h = new ForwardingHarness(new ForwardingPolicy { PortRange = new PortRange(40000, 40001), AllowSuggestedPort = true });
        var client = h.Connect(2);
        var map = h.Map(client, MappingProtocol.Tcp, 5000);

        var peer = h.Peer(client, MappingProtocol.Tcp, 5000, Remote, suggested: map.ExternalPort);
        var another = h.Peer(client, MappingProtocol.Tcp, 5001, Remote);

        Assert.Equal(MapStatus.Success, peer.Status);
        Assert.NotEqual(map.ExternalPort, peer.ExternalPort);
        Assert.Equal(MapStatus.NoResources, another.Status);
        Assert.Equal(2, h.Table.Entries.Count);
    }

    [Fact]
    public void Peer_Repeated_RefreshesInOneTransactionAndKeepsThePort()
    {
        using var h = new ForwardingHarness();
        var client = h.Connect(2);
        var first = h.Peer(client, MappingProtocol.Udp, 5000, Remote, lifetimeSeconds: 600);
        h.Time.Advance(TimeSpan.FromSeconds(300));

        var second = h.Peer(client, MappingProtocol.Udp, 5000, Remote, lifetimeSeconds: 999_999);

        Assert.Equal(first.ExternalPort, second.ExternalPort);
        Assert.Equal(TimeSpan.FromSeconds(3600), second.Lifetime); // clamped like MAP
        var (remove, add) = h.Table.Updates[^1];
        Assert.Equal(Assert.Single(remove).Key, Assert.Single(add).Key);
        Assert.Single(h.Table.Entries);
    }

    [Fact]
    public void Peer_AnotherRemote_IsAnotherMapping()
    {
        using var h = new ForwardingHarness();
        var client = h.Connect(2);
        var first = h.Peer(client, MappingProtocol.Tcp, 5000, Remote);

        var second = h.Peer(client, MappingProtocol.Tcp, 5000, new IPEndPoint(Remote.Address, 443));

        Assert.NotEqual(first.ExternalPort, second.ExternalPort);
        Assert.Equal(2, h.Table.Entries.Count);
    }

    [Fact]
    public void Peer_LifetimeZero_DeletesItAndLeavesTheMapOfTheSamePort()
    {
        using var h = new ForwardingHarness();
        var client = h.Connect(2);
        var map = h.Map(client, MappingProtocol.Tcp, 5000);
        h.Peer(client, MappingProtocol.Tcp, 5000, Remote);

        var deleted = h.Peer(client, MappingProtocol.Tcp, 5000, Remote, lifetimeSeconds: 0);

        Assert.Equal(MapStatus.Success, deleted.Status);
        Assert.Equal(TimeSpan.Zero, deleted.Lifetime);
        var left = Assert.Single(h.Table.Entries);
        Assert.Null(left.Remote);
        Assert.Equal(map.ExternalPort, left.PublicPort);
    }

    [Fact]
    public void Peer_OtherNonce_NotAuthorizedAndMappingStays()
    {
        using var h = new ForwardingHarness();
        var client = h.Connect(2);
        h.Peer(client, MappingProtocol.Tcp, 5000, Remote, nonce: Nonce(1));

        var refresh = h.Peer(client, MappingProtocol.Tcp, 5000, Remote, nonce: Nonce(2));
        var delete = h.Peer(client, MappingProtocol.Tcp, 5000, Remote, lifetimeSeconds: 0, nonce: Nonce(2));

        Assert.Equal(MapStatus.NotAuthorized, refresh.Status);
        Assert.Equal(MapStatus.NotAuthorized, delete.Status);
        Assert.Single(h.Table.Entries);
    }

    [Fact]
    public void Peer_CountsToTheQuota()
    {
        using var h = new ForwardingHarness(new ForwardingPolicy { MaxPerPeer = 2 });
        var client = h.Connect(2);
        h.Map(client, MappingProtocol.Tcp, 5000);
        h.Peer(client, MappingProtocol.Tcp, 5000, Remote);

        Assert.Equal(MapStatus.QuotaExceeded, h.Peer(client, MappingProtocol.Tcp, 5001, Remote).Status);
        Assert.Equal(MapStatus.QuotaExceeded, h.Map(client, MappingProtocol.Udp, 6000).Status);
    }

    [Fact]
    public void Peer_SessionEnd_ReleasesIt()
    {
        using var h = new ForwardingHarness();
        var client = h.Connect(2);
        h.Peer(client, MappingProtocol.Tcp, 5000, Remote);

        h.Disconnect(2);

        Assert.Empty(h.Table.Entries);
    }

    [Fact]
    public void Peer_LeaseEnds_RemovedFromTheKernel()
    {
        using var h = new ForwardingHarness();
        var client = h.Connect(2);
        h.Peer(client, MappingProtocol.Tcp, 5000, Remote, lifetimeSeconds: 120);
        h.Time.Advance(TimeSpan.FromSeconds(119));
        Assert.Single(h.Table.Entries);

        h.Time.Advance(TimeSpan.FromSeconds(1));

        Assert.Empty(h.Table.Entries);
    }

    [Fact]
    public void MapDeleteAll_LeavesPeerMappings()
    {
        using var h = new ForwardingHarness();
        var client = h.Connect(2);
        h.Map(client, MappingProtocol.Tcp, 5000, nonce: Nonce(1));
        h.Peer(client, MappingProtocol.Tcp, 5000, Remote, nonce: Nonce(1));

        h.Service.DeleteAll(client, MappingProtocol.Tcp, Nonce(1));

        Assert.NotNull(Assert.Single(h.Table.Entries).Remote);
    }

    [Fact]
    public void Peer_UnknownClient_Refused()
    {
        using var h = new ForwardingHarness();

        Assert.Equal(MapStatus.UnknownClient, h.Peer(TunnelAddress(9), MappingProtocol.Tcp, 5000, Remote).Status);
        Assert.Empty(h.Table.Entries);
    }
}
