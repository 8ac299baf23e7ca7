using System.Net;
using Portcullis.Gateway.Admin;
using Portcullis.Gateway.Configuration;
using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Store;
using Portcullis.PortMapping;
using static Portcullis.Gateway.Tests.Hosting.OperationsFixture;

namespace Portcullis.Gateway.Tests.Hosting;

/// <summary>Dedicated IPv6 addresses through the admin operations: NAT66 only, beside an IPv4 one, refused with a reason.</summary>
public sealed class GatewayOperationsDedicated6Tests
{
    private static readonly TunnelIpv6 Nat66 = new(IPNetwork.Parse("fd99::/64"), IPNetwork.Parse("10.99.0.0/16"), Routed: false);
    private static readonly TunnelIpv6 Routed = new(IPNetwork.Parse("2001:db8:99::/64"), IPNetwork.Parse("10.99.0.0/16"), Routed: true);
    private static readonly IPAddress Own4 = IPAddress.Parse("198.51.100.11");
    private static readonly IPAddress Own6 = IPAddress.Parse("2001:db8:1::11");

    [Fact]
    public async Task AddPeerAsync_BothFamilies_StoredListedAndInTheServiceWithTheTwin()
    {
        await using var f = await CreateAsync(ipv6: Nat66);

        var alice = (await f.Operations.AddPeerAsync(new PeerRequest { Name = "alice", DedicatedAddress = Own4, DedicatedAddress6 = Own6 })).Peer;

        Assert.Equal((Own4, Own6), (alice.DedicatedAddress, alice.DedicatedAddress6));
        var listed = Assert.Single(await f.Operations.ListPeersAsync());
        Assert.Equal((Own4, Own6), (listed.DedicatedAddress, listed.DedicatedAddress6));
        Assert.Equal(2, (await f.Store.ListDedicatedAddressesAsync()).Count);
        Assert.Contains(new DedicatedAssignment(alice.Id, Nat66.Twin(alice.TunnelAddress), Own6), f.Service.DedicatedAddresses);
        Assert.Contains(new DedicatedAssignment(alice.Id, alice.TunnelAddress, Own4), f.Service.DedicatedAddresses);
        Assert.Contains(f.Table.Dedicated, r => r.PublicAddress.Equals(Own6) && r.TunnelAddress.Equals(Nat66.Twin(alice.TunnelAddress)));
    }

    [Fact]
    public async Task AddPeerAsync_Ipv6GivenTwice_ConflictAndTheSecondPeerUndone()
    {
        await using var f = await CreateAsync(ipv6: Nat66);
        await f.Operations.AddPeerAsync(new PeerRequest { Name = "alice", DedicatedAddress6 = Own6 });

        var e = await Assert.ThrowsAsync<StoreConflictException>(
            () => f.Operations.AddPeerAsync(new PeerRequest { Name = "bob", DedicatedAddress6 = Own6 }));

        Assert.Equal(StoreConflict.DedicatedAddress, e.Conflict);
        Assert.Equal("alice", Assert.Single(await f.Store.ListPeersAsync()).Name);
        Assert.Single(f.Service.DedicatedAddresses);
    }

    [Theory]
    [InlineData("nat66", "2001:db8:1::a", "is a shared public address")]
    [InlineData("nat66", "fd99::9", "lies in the tunnel's IPv6 prefix")]
    [InlineData("nat66", "fe80::1", "is not a unicast IPv6 address")]
    [InlineData("nat66", "198.51.100.11", "is not a unicast IPv6 address")]
    [InlineData("routed", "2001:db8:1::11", "with a routed IPv6 prefix every peer already has a global /128")]
    [InlineData("none", "2001:db8:1::11", "carries no IPv6 in its tunnel")]
    public async Task AddPeerAsync_BadIpv6DedicatedAddress_RejectedWithReasonAndNothingStored(string mode, string address, string reason)
    {
        await using var f = await CreateAsync(ipv6: mode switch { "nat66" => Nat66, "routed" => Routed, _ => null });

        var e = await Assert.ThrowsAsync<AdminRequestException>(
            () => f.Operations.AddPeerAsync(new PeerRequest { Name = "alice", DedicatedAddress6 = IPAddress.Parse(address) }));

        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
        Assert.Empty(await f.Store.ListPeersAsync());
        Assert.Empty(f.Service.DedicatedAddresses);
    }

    [Fact]
    public async Task AddForwardAsync_OnThePeersDedicatedIpv6_LiveAtItsTwin_AnotherPeerRefused()
    {
        await using var f = await CreateAsync(ipv6: Nat66);
        var alice = (await f.Operations.AddPeerAsync(new PeerRequest { Name = "alice", DedicatedAddress6 = Own6 })).Peer;
        await f.Operations.AddPeerAsync(new PeerRequest { Name = "bob" });
        f.Connect(alice);

        var view = Assert.Single((await f.Operations.AddForwardAsync(
            new ForwardRequest { Peer = "alice", Protocol = ForwardProtocol.Tcp, ExternalPort = 443, PublicAddress = Own6 }))!);
        var refused = await Assert.ThrowsAsync<AdminRequestException>(() => f.Operations.AddForwardAsync(
            new ForwardRequest { Peer = "bob", Protocol = ForwardProtocol.Tcp, ExternalPort = 444, PublicAddress = Own6 }));

        Assert.True(view.Live);
        Assert.Contains(f.Table.Entries, e => e.PublicAddress.Equals(Own6) && e.TunnelAddress.Equals(Nat66.Twin(alice.TunnelAddress)));
        Assert.Contains("nor the peer's dedicated IPv6 address", refused.Message, StringComparison.Ordinal);
    }
}
