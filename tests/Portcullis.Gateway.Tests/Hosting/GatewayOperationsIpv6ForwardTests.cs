using System.Net;
using Portcullis.Gateway.Admin;
using Portcullis.Gateway.Configuration;
using Portcullis.PortMapping;
using static Portcullis.Gateway.Tests.Hosting.OperationsFixture;

namespace Portcullis.Gateway.Tests.Hosting;

/// <summary>Static forwards on the gateway's IPv6 addresses through the admin operations: NAT66 and routed.</summary>
public sealed class GatewayOperationsIpv6ForwardTests
{
    private static readonly TunnelIpv6 Nat66 = new(IPNetwork.Parse("fd99::/64"), IPNetwork.Parse("10.99.0.0/16"), Routed: false);
    private static readonly TunnelIpv6 Routed = new(IPNetwork.Parse("2001:db8:99::/64"), IPNetwork.Parse("10.99.0.0/16"), Routed: true);

    [Fact]
    public async Task AddForwardAsync_Nat66PublicAddress_LiveAtThePeersIpv6TunnelAddressAndListed()
    {
        await using var f = await CreateAsync(ipv6: Nat66);
        var alice = (await f.Operations.AddPeerAsync(new PeerRequest { Name = "alice" })).Peer;
        f.Connect(alice);

        var views = await f.Operations.AddForwardAsync(
            new ForwardRequest { Peer = "alice", Protocol = ForwardProtocol.Tcp, ExternalPort = 30000, InternalPort = 8080, PublicAddress = Public6 });

        var view = Assert.Single(views!);
        Assert.Equal((Public6, true), (view.PublicAddress, view.Live));
        var entry = Assert.Single(f.Table.Entries);
        Assert.Equal((Public6, (ushort)30000, Nat66.Twin(alice.TunnelAddress), (ushort)8080),
            (entry.PublicAddress, entry.PublicPort, entry.TunnelAddress, entry.InternalPort));
        var listed = Assert.Single(await f.Operations.ListForwardsAsync());
        Assert.Equal((Public6, true), (listed.PublicAddress, listed.Live));
        Assert.Equal(Public6, Assert.Single(await f.Store.ListForwardsAsync()).PublicAddress);
    }

    [Fact]
    public async Task RemoveForwardAsync_Nat66Forward_LeavesKernelAndStore()
    {
        await using var f = await CreateAsync(ipv6: Nat66);
        var alice = (await f.Operations.AddPeerAsync(new PeerRequest { Name = "alice" })).Peer;
        f.Connect(alice);
        await f.Operations.AddForwardAsync(new ForwardRequest { Peer = "alice", Protocol = ForwardProtocol.Udp, ExternalPort = 30000, PublicAddress = Public6 });

        Assert.True(await f.Operations.RemoveForwardAsync(new Portcullis.Gateway.Store.ForwardKey(Public6, MappingProtocol.Udp, 30000)));

        Assert.Empty(f.Table.Entries);
        Assert.Empty(await f.Store.ListForwardsAsync());
    }

    [Fact]
    public async Task AddForwardAsync_RoutedOwnAddressAtItsOwnPort_LiveUntranslated()
    {
        await using var f = await CreateAsync(ipv6: Routed);
        var alice = (await f.Operations.AddPeerAsync(new PeerRequest { Name = "alice" })).Peer;
        f.Connect(alice);
        var own = Routed.Twin(alice.TunnelAddress);

        var view = Assert.Single((await f.Operations.AddForwardAsync(
            new ForwardRequest { Peer = "alice", Protocol = ForwardProtocol.Tcp, ExternalPort = 8080, PublicAddress = own }))!);

        Assert.True(view.Live);
        var entry = Assert.Single(f.Table.Entries);
        Assert.Equal((own, (ushort)8080, own, (ushort)8080), (entry.PublicAddress, entry.PublicPort, entry.TunnelAddress, entry.InternalPort));
    }

    [Theory]
    [InlineData("nat66", "2001:db8:1::b", 8080, "is not one of this gateway's public IPv6 addresses")]
    [InlineData("nat66", "fd99::2", 8080, "is not one of this gateway's public IPv6 addresses")]
    [InlineData("none", "2001:db8:1::a", 8080, "this gateway carries no IPv6 in its tunnel")]
    [InlineData("routed", "2001:db8:99::3", 8080, "a forward is on the peer's own address, 2001:db8:99::2, not 2001:db8:99::3")]
    [InlineData("routed", "2001:db8:99::2", 9090, "nothing is translated")]
    public async Task AddForwardAsync_Ipv6AddressNotTheGatewaysForThePeer_RejectedWithReasonNothingKept(string mode, string address, int internalPort, string reason)
    {
        await using var f = await CreateAsync(ipv6: mode switch { "nat66" => Nat66, "routed" => Routed, _ => null });
        var alice = (await f.Operations.AddPeerAsync(new PeerRequest { Name = "alice", TunnelAddress = IPAddress.Parse("10.99.0.2") })).Peer;
        f.Connect(alice);

        var e = await Assert.ThrowsAsync<AdminRequestException>(() => f.Operations.AddForwardAsync(new ForwardRequest
        {
            Peer = "alice",
            Protocol = ForwardProtocol.Tcp,
            ExternalPort = 8080,
            InternalPort = (ushort)internalPort,
            PublicAddress = IPAddress.Parse(address),
        }));

        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
        Assert.Empty(await f.Store.ListForwardsAsync());
        Assert.Empty(f.Table.Entries);
    }
}
