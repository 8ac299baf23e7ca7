using System.Net;
using Portcullis.Gateway.Configuration;
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
        var entry = Assert.IsType<PeerEntry>(Assert.Single(h.Table.Entries));
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
        Assert.IsNotType<PeerEntry>(left);
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

        Assert.IsType<PeerEntry>(Assert.Single(h.Table.Entries));
    }

    [Fact]
    public void Peer_UnknownClient_Refused()
    {
        using var h = new ForwardingHarness();

        Assert.Equal(MapStatus.UnknownClient, h.Peer(TunnelAddress(9), MappingProtocol.Tcp, 5000, Remote).Status);
        Assert.Empty(h.Table.Entries);
    }

    private static readonly IPAddress PublicAddress6 = IPAddress.Parse("2001:db8:1::10");
    private static readonly IPEndPoint Remote6 = new(IPAddress.Parse("2001:db8:2::100"), 80);
    private static readonly TunnelIpv6 Tunnel6 = new(IPNetwork.Parse("fd99::/64"), IPNetwork.Parse("10.99.0.0/16"), Routed: false);

    [Fact]
    public void Peer_Ipv6Nat66_AnswersThePublicIpv6EndpointAndWritesAnIpv6OutboundEntry()
    {
        using var h = new ForwardingHarness(ipv6: new ForwardingIpv6(Tunnel6, PublicAddress6));
        h.Connect(2);
        var twin = IPAddress.Parse("fd99::2");

        var result = h.Peer(twin, MappingProtocol.Udp, 5000, Remote6, lifetimeSeconds: 600);

        Assert.Equal((MapStatus.Success, PublicAddress6), (result.Status, result.ExternalAddress));
        var entry = Assert.IsType<PeerEntry>(Assert.Single(h.Table.Entries));
        Assert.Equal(new PeerEntry(PublicAddress6, MappingProtocol.Udp, result.ExternalPort, twin, 5000, Remote6, PeerId(2), entry.Timeout), entry);
        // The same flow asked again is a refresh of that entry; lifetime 0 removes it.
        Assert.Equal(result.ExternalPort, h.Peer(twin, MappingProtocol.Udp, 5000, Remote6).ExternalPort);
        Assert.Equal(MapStatus.Success, h.Peer(twin, MappingProtocol.Udp, 5000, Remote6, lifetimeSeconds: 0).Status);
        Assert.Empty(h.Table.Entries);
    }

    [Theory]
    [InlineData("fd99::2", "192.0.2.100")]
    [InlineData("10.99.0.2", "2001:db8:2::100")]
    public void Peer_RemoteOfTheOtherFamily_NotAuthorized(string client, string remote)
    {
        using var h = new ForwardingHarness(ipv6: new ForwardingIpv6(Tunnel6, PublicAddress6));
        h.Connect(2);

        var result = h.Peer(IPAddress.Parse(client), MappingProtocol.Tcp, 5000, new IPEndPoint(IPAddress.Parse(remote), 80));

        Assert.Equal(MapStatus.NotAuthorized, result.Status);
        Assert.Empty(h.Table.Entries);
    }

    [Fact]
    public void Peer_Ipv6Routed_AnswersThePeersOwnAddressAndPortAndWritesNothing()
    {
        var routed = new ForwardingIpv6(Tunnel6 with { Prefix = IPNetwork.Parse("2001:db8:99::/64"), Routed = true }, null);
        using var h = new ForwardingHarness(new ForwardingPolicy { MaxPerPeer = 1 }, ipv6: routed);
        h.Connect(2);
        var own = IPAddress.Parse("2001:db8:99::2");

        var result = h.Peer(own, MappingProtocol.Tcp, 5000, Remote6, lifetimeSeconds: 999_999);
        var another = h.Peer(own, MappingProtocol.Tcp, 5001, Remote6);
        var deleted = h.Peer(own, MappingProtocol.Tcp, 5000, Remote6, lifetimeSeconds: 0);

        Assert.Equal(new MapResult(MapStatus.Success, own, 5000, 5000, TimeSpan.FromSeconds(3600)), result);
        Assert.Equal((MapStatus.Success, (ushort)5001), (another.Status, another.ExternalPort)); // no state, no quota
        Assert.Equal((MapStatus.Success, TimeSpan.Zero), (deleted.Status, deleted.Lifetime));
        Assert.Empty(h.Table.Updates);
    }

    [Fact]
    public void Peer_AuditLogOn_CreationAndRemovalNamePeerFlowAndPublicEnd()
    {
        using var h = new ForwardingHarness(new ForwardingPolicy { AuditLog = true });
        var client = h.Connect(2);

        var result = h.Peer(client, MappingProtocol.Tcp, 5000, Remote);
        h.Peer(client, MappingProtocol.Tcp, 5000, Remote, lifetimeSeconds: 0);

        var audit = h.Logger.Lines.Where(l => l.Id.Id >= 4040).Select(l => l.Message).ToList();
        Assert.Contains($"Audit: PEER mapping created for peer p2: Tcp 10.99.0.2:5000 -> 192.0.2.100:80 leaves from {PublicAddress}:{result.ExternalPort}, lease 3600 s", audit);
        Assert.Contains(audit, m => m.StartsWith("Audit: mapping removed (Deleted) for peer p2", StringComparison.Ordinal)
            && m.Contains($"{PublicAddress}:{result.ExternalPort} ", StringComparison.Ordinal));
    }

    [Fact]
    public void Peer_AuditLogOff_NoLineNamesTheFlow()
    {
        using var h = new ForwardingHarness();
        var client = h.Connect(2);

        var result = h.Peer(client, MappingProtocol.Tcp, 5000, Remote);
        h.Peer(client, MappingProtocol.Tcp, 5000, Remote, lifetimeSeconds: 0);

        Assert.Equal(MapStatus.Success, result.Status);
        Assert.DoesNotContain(h.Logger.Lines, l => l.Id.Id >= 4040 || l.Message.Contains("192.0.2.100", StringComparison.Ordinal)
            || l.Message.Contains(result.ExternalPort.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
    }

    [Fact]
    public void Reconcile_LivePeerMappingListedBack_NoChange()
    {
        using var h = new ForwardingHarness();
        var client = h.Connect(2);
        h.Peer(client, MappingProtocol.Tcp, 5000, Remote);
        var updates = h.Table.Updates.Count;

        h.Service.Reconcile();
        h.Service.Reconcile();

        Assert.Equal(updates, h.Table.Updates.Count);
        Assert.IsType<PeerEntry>(Assert.Single(h.Table.Entries));
    }

    [Fact]
    public void Reconcile_ListedPeerEntryOfAnotherRemote_Replaced()
    {
        using var h = new ForwardingHarness();
        var client = h.Connect(2);
        h.Peer(client, MappingProtocol.Tcp, 5000, Remote);
        var held = Assert.IsType<PeerEntry>(Assert.Single(h.Table.Entries));
        h.Table.Seed(held with { Remote = new IPEndPoint(Remote.Address, 443) }); // an operator rewrote the element

        h.Service.Reconcile();

        Assert.Equal(held, Assert.Single(h.Table.Entries));
    }
}
