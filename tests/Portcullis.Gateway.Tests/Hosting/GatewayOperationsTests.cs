using System.Net;
using Portcullis.Gateway.Admin;
using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Store;
using Portcullis.Gateway.Tests.Store;
using Portcullis.PortMapping;
using Portcullis.WireGuard.Crypto;
using static Portcullis.Gateway.Tests.Hosting.OperationsFixture;

namespace Portcullis.Gateway.Tests.Hosting;

public sealed class GatewayOperationsTests
{
    private static Dictionary<string, string> ParseConfig(string text)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0 && !line.StartsWith('#'))
                values[line[..equals].Trim()] = line[(equals + 1)..].Trim();
        }
        return values;
    }

    [Fact]
    public async Task AddPeerAsync_NoPublicKey_GeneratedPairInConfigPeerInDeviceAndStore()
    {
        await using var f = await CreateAsync();

        var added = await f.Operations.AddPeerAsync(new PeerRequest { Name = "alice" });

        var config = ParseConfig(added.ClientConfig);
        var privateKey = Convert.FromBase64String(config["PrivateKey"]);
        var derived = new byte[32];
        new OpenSslCrypto().DerivePublicKey(privateKey, derived);
        Assert.Equal(added.Peer.PublicKey, Convert.ToBase64String(derived));
        Assert.Equal("10.99.0.2/16", config["Address"]);
        Assert.Equal(GatewayKey, config["PublicKey"]);
        Assert.Equal("198.51.100.10:51820", config["Endpoint"]);
        // Everything into the tunnel, IPv6 too, and the resolvers of [tunnel] dns: nothing left on the LAN.
        Assert.Equal("0.0.0.0/0, ::/0", config["AllowedIPs"]);
        Assert.Equal("10.99.0.1, 9.9.9.9", config["DNS"]);
        Assert.Equal("25", config["PersistentKeepalive"]);
        Assert.Equal(IPAddress.Parse("10.99.0.2"), f.Device.Held[added.Peer.PublicKey]);
        var stored = Assert.Single(await f.Store.ListPeersAsync());
        Assert.Equal(added.Peer.Id, stored.Id);
        Assert.True(stored.Enabled);
        Assert.False(added.Peer.Connected);
    }

    [Fact]
    public async Task AddPeerAsync_GivenPublicKey_ConfigAsksForTheKeyAndHoldsNone()
    {
        await using var f = await CreateAsync();
        var key = StoreFixture.NewKey();

        var added = await f.Operations.AddPeerAsync(new PeerRequest { Name = "bob", PublicKey = key, TunnelAddress = IPAddress.Parse("10.99.3.4") });

        Assert.Equal(key, added.Peer.PublicKey);
        Assert.DoesNotContain("PrivateKey =", added.ClientConfig.Split('\n').Where(l => !l.StartsWith('#')));
        Assert.Contains("# PrivateKey", added.ClientConfig, StringComparison.Ordinal);
        Assert.Equal("10.99.3.4/16", ParseConfig(added.ClientConfig)["Address"]);
    }

    public static TheoryData<string, string?, string?, string?> BadPeers => new()
    {
        { "", null, null, null },
        { "has space", null, null, null },
        { "semi;colon", null, null, null },
        { new string('a', 65), null, null, null },
        { "ok", "not base64!", null, null },
        { "ok", Convert.ToBase64String(new byte[31]), null, null },
        { "ok", Convert.ToBase64String(new byte[32]), null, null },
        { "ok", null, "10.98.0.2", null },
        { "ok", null, "10.99.0.1", null },
        { "ok", null, "10.99.255.255", null },
        { "ok", null, null, "198.51.100.10" },
        { "ok", null, null, "10.99.0.7" },
        { "ok", null, null, "224.0.0.1" },
    };

    [Theory]
    [MemberData(nameof(BadPeers))]
    public async Task AddPeerAsync_BadRequest_RejectedWithReasonAndNothingStored(string name, string? key, string? address, string? dedicated)
    {
        await using var f = await CreateAsync();

        var e = await Assert.ThrowsAsync<AdminRequestException>(() => f.Operations.AddPeerAsync(new PeerRequest
        {
            Name = name,
            PublicKey = key,
            TunnelAddress = address is null ? null : IPAddress.Parse(address),
            DedicatedAddress = dedicated is null ? null : IPAddress.Parse(dedicated),
        }));

        Assert.False(string.IsNullOrWhiteSpace(e.Message));
        Assert.Empty(await f.Store.ListPeersAsync());
        Assert.Empty(f.Device.Held);
    }

    [Fact]
    public async Task AddPeerAsync_DuplicateName_ConflictAndDeviceUnchanged()
    {
        await using var f = await CreateAsync();
        await f.Operations.AddPeerAsync(new PeerRequest { Name = "alice" });

        var e = await Assert.ThrowsAsync<StoreConflictException>(() => f.Operations.AddPeerAsync(new PeerRequest { Name = "alice" }));

        Assert.Equal(StoreConflict.PeerName, e.Conflict);
        Assert.Single(f.Device.Held);
    }

    [Fact]
    public async Task AddPeerAsync_DedicatedAddress_EndpointThereAndTakenAddressUndoesThePeer()
    {
        await using var f = await CreateAsync();
        var own = IPAddress.Parse("198.51.100.11");
        var alice = await f.Operations.AddPeerAsync(new PeerRequest { Name = "alice", DedicatedAddress = own });

        var e = await Assert.ThrowsAsync<StoreConflictException>(
            () => f.Operations.AddPeerAsync(new PeerRequest { Name = "bob", DedicatedAddress = own }));

        Assert.Equal("198.51.100.11:51820", ParseConfig(alice.ClientConfig)["Endpoint"]);
        Assert.Equal(own, alice.Peer.DedicatedAddress);
        Assert.Equal(StoreConflict.DedicatedAddress, e.Conflict);
        Assert.Equal("alice", Assert.Single(await f.Store.ListPeersAsync()).Name);
        Assert.Single(f.Device.Held);
        Assert.Equal(new DedicatedAssignment(alice.Peer.Id, alice.Peer.TunnelAddress, own), Assert.Single(f.Service.DedicatedAddresses));
    }

    [Fact]
    public async Task RemovePeerAsync_WithDedicatedAddress_AssignmentLeavesTheService()
    {
        await using var f = await CreateAsync();
        await f.Operations.AddPeerAsync(new PeerRequest { Name = "alice", DedicatedAddress = IPAddress.Parse("198.51.100.11") });
        Assert.Single(f.Service.DedicatedAddresses);

        Assert.True(await f.Operations.RemovePeerAsync("alice"));

        Assert.Empty(f.Service.DedicatedAddresses);
        Assert.Empty(await f.Store.ListDedicatedAddressesAsync());
    }

    [Fact]
    public async Task RemovePeerAsync_ConnectedWithForwardAndMapping_CutOffEverywhere()
    {
        await using var f = await CreateAsync();
        var alice = (await f.Operations.AddPeerAsync(new PeerRequest { Name = "alice" })).Peer;
        await f.Operations.AddForwardAsync(new ForwardRequest { Peer = "alice", Protocol = ForwardProtocol.Tcp, ExternalPort = 30000 });
        f.Connect(alice);
        var mapped = f.Service.Map(new MapRequest
        {
            Client = alice.TunnelAddress,
            Protocol = MappingProtocol.Udp,
            InternalPort = 6881,
            Lifetime = TimeSpan.FromHours(1),
        });
        Assert.Equal(MapStatus.Success, mapped.Status);
        Assert.Equal(2, f.Table.Entries.Count);

        Assert.True(await f.Operations.RemovePeerAsync("alice"));

        Assert.Empty(f.Table.Entries);
        Assert.Empty(f.Service.Mappings);
        Assert.Empty(f.Service.StaticForwards);
        Assert.Empty(f.Device.Held);
        Assert.Equal([alice.TunnelAddress], f.Flows.Cut);
        Assert.Empty(await f.Store.ListPeersAsync());
        Assert.Empty(await f.Store.ListForwardsAsync());
        Assert.Null(f.Peers.FindById(alice.Id));
        Assert.False(await f.Operations.RemovePeerAsync("alice"));
    }

    [Fact]
    public async Task SetPeerEnabledAsync_DisableThenEnable_CutOffKeptAndBackWithItsForward()
    {
        await using var f = await CreateAsync();
        var alice = (await f.Operations.AddPeerAsync(new PeerRequest { Name = "alice" })).Peer;
        await f.Operations.AddForwardAsync(new ForwardRequest { Peer = alice.Id, Protocol = ForwardProtocol.Tcp, ExternalPort = 30000, InternalPort = 8080 });
        f.Connect(alice);
        Assert.Single(f.Table.Entries);

        Assert.True(await f.Operations.SetPeerEnabledAsync("alice", false));
        Assert.Empty(f.Table.Entries);
        Assert.Empty(f.Device.Held);
        Assert.Equal([alice.TunnelAddress], f.Flows.Cut);
        var disabled = await f.Operations.GetPeerAsync("alice");
        Assert.NotNull(disabled);
        Assert.False(disabled.Enabled);
        Assert.False(Assert.Single(await f.Operations.ListForwardsAsync()).Live);

        Assert.True(await f.Operations.SetPeerEnabledAsync(alice.Id, true));
        f.Connect(alice);
        var entry = Assert.Single(f.Table.Entries);
        Assert.Equal((alice.TunnelAddress, (ushort)8080), (entry.TunnelAddress, entry.InternalPort));
        Assert.True(Assert.Single(await f.Operations.ListForwardsAsync()).Live);
        Assert.False(await f.Operations.SetPeerEnabledAsync("nobody", true));
    }

    [Fact]
    public async Task AddForwardAsync_BothProtocols_TwoForwardsLiveWhileConnected()
    {
        await using var f = await CreateAsync();
        var alice = (await f.Operations.AddPeerAsync(new PeerRequest { Name = "alice" })).Peer;
        f.Connect(alice);

        var views = await f.Operations.AddForwardAsync(new ForwardRequest { Peer = "alice", ExternalPort = 30000, InternalPort = 8080 });

        Assert.NotNull(views);
        Assert.Equal([MappingProtocol.Tcp, MappingProtocol.Udp], views.Select(v => v.Protocol).Order());
        Assert.All(views, v => Assert.True(v.Live));
        Assert.All(views, v => Assert.Equal(("alice", Shared, (ushort)8080), (v.PeerName, v.PublicAddress, v.InternalPort)));
        Assert.Equal(2, f.Table.Entries.Count);
        Assert.Equal(2, (await f.Store.ListForwardsAsync()).Count);
    }

    [Theory]
    [InlineData(ForwardProtocol.Udp)]
    [InlineData(ForwardProtocol.Both)]
    public async Task AddForwardAsync_UdpOnTheWireGuardPort_RefusedWithTheReason_NothingStored(ForwardProtocol protocol)
    {
        await using var f = await CreateAsync();
        await f.Operations.AddPeerAsync(new PeerRequest { Name = "alice" });

        var e = await Assert.ThrowsAsync<AdminRequestException>(
            () => f.Operations.AddForwardAsync(new ForwardRequest { Peer = "alice", Protocol = protocol, ExternalPort = 51820 }));

        Assert.Contains("UDP 51820 is the gateway's own WireGuard port", e.Message, StringComparison.Ordinal);
        Assert.Empty(await f.Store.ListForwardsAsync());
        Assert.Empty(f.Service.StaticForwards);
        Assert.NotNull(await f.Operations.AddForwardAsync(new ForwardRequest { Peer = "alice", Protocol = ForwardProtocol.Tcp, ExternalPort = 51820 }));
    }

    [Fact]
    public async Task AddForwardAsync_BothWhereUdpIsTaken_ConflictAndTcpHalfNotKept()
    {
        await using var f = await CreateAsync();
        await f.Operations.AddPeerAsync(new PeerRequest { Name = "alice" });
        await f.Operations.AddPeerAsync(new PeerRequest { Name = "bob" });
        await f.Operations.AddForwardAsync(new ForwardRequest { Peer = "alice", Protocol = ForwardProtocol.Udp, ExternalPort = 30000 });

        var e = await Assert.ThrowsAsync<StoreConflictException>(
            () => f.Operations.AddForwardAsync(new ForwardRequest { Peer = "bob", ExternalPort = 30000 }));

        Assert.Equal(StoreConflict.StaticForward, e.Conflict);
        var left = Assert.Single(await f.Store.ListForwardsAsync());
        Assert.Equal(MappingProtocol.Udp, left.Protocol);
        Assert.Single(f.Service.StaticForwards);
    }

    [Fact]
    public async Task AddForwardAsync_KernelRefuses_NotStoredEither()
    {
        await using var f = await CreateAsync();
        var alice = (await f.Operations.AddPeerAsync(new PeerRequest { Name = "alice" })).Peer;
        f.Connect(alice);
        f.Table.Failing = true;

        await Assert.ThrowsAsync<Portcullis.Gateway.Forwarding.ForwardingTableException>(
            () => f.Operations.AddForwardAsync(new ForwardRequest { Peer = "alice", ExternalPort = 30000 }));

        Assert.Empty(await f.Store.ListForwardsAsync());
        Assert.Empty(f.Service.StaticForwards);
    }

    [Fact]
    public async Task AddForwardAsync_BadOrUnknown_RejectedOrNull()
    {
        await using var f = await CreateAsync();
        await f.Operations.AddPeerAsync(new PeerRequest { Name = "alice", DedicatedAddress = IPAddress.Parse("198.51.100.11") });
        await f.Operations.AddPeerAsync(new PeerRequest { Name = "bob" });

        Assert.Null(await f.Operations.AddForwardAsync(new ForwardRequest { Peer = "nobody", ExternalPort = 30000 }));
        await Assert.ThrowsAsync<AdminRequestException>(() => f.Operations.AddForwardAsync(new ForwardRequest { Peer = "bob", ExternalPort = 0 }));
        await Assert.ThrowsAsync<AdminRequestException>(() => f.Operations.AddForwardAsync(new ForwardRequest { Peer = "bob", ExternalPort = 1, InternalPort = 0 }));
        await Assert.ThrowsAsync<AdminRequestException>(() => f.Operations.AddForwardAsync(
            new ForwardRequest { Peer = "bob", ExternalPort = 30000, PublicAddress = IPAddress.Parse("198.51.100.11") }));
        await Assert.ThrowsAsync<AdminRequestException>(() => f.Operations.AddForwardAsync(
            new ForwardRequest { Peer = "bob", ExternalPort = 30000, PublicAddress = IPAddress.Parse("203.0.113.9") }));
        Assert.Empty(await f.Store.ListForwardsAsync());
    }

    [Fact]
    public async Task AddForwardAsync_PeerWithDedicatedAddressOrAskedSharedAddress_ListensThere()
    {
        await using var f = await CreateAsync();
        await f.Operations.AddPeerAsync(new PeerRequest { Name = "alice", DedicatedAddress = IPAddress.Parse("198.51.100.11") });

        var own = await f.Operations.AddForwardAsync(new ForwardRequest { Peer = "alice", Protocol = ForwardProtocol.Tcp, ExternalPort = 30000 });
        var shared = await f.Operations.AddForwardAsync(
            new ForwardRequest { Peer = "alice", Protocol = ForwardProtocol.Tcp, ExternalPort = 30000, PublicAddress = SecondShared });

        Assert.Equal(IPAddress.Parse("198.51.100.11"), Assert.Single(own!).PublicAddress);
        Assert.Equal(SecondShared, Assert.Single(shared!).PublicAddress);
    }

    [Fact]
    public async Task RemoveForwardAsync_Live_LeavesKernelAndStore()
    {
        await using var f = await CreateAsync();
        var alice = (await f.Operations.AddPeerAsync(new PeerRequest { Name = "alice" })).Peer;
        await f.Operations.AddForwardAsync(new ForwardRequest { Peer = "alice", Protocol = ForwardProtocol.Tcp, ExternalPort = 30000 });
        f.Connect(alice);
        var key = new ForwardKey(IPAddress.Parse("::ffff:198.51.100.10"), MappingProtocol.Tcp, 30000);

        Assert.True(await f.Operations.RemoveForwardAsync(key));
        Assert.False(await f.Operations.RemoveForwardAsync(key));

        Assert.Empty(f.Table.Entries);
        Assert.Empty(await f.Store.ListForwardsAsync());
    }

    [Fact]
    public async Task SetPolicyAsync_ForwardingOff_StoredInForceAndMappingsGone()
    {
        await using var f = await CreateAsync();
        var alice = (await f.Operations.AddPeerAsync(new PeerRequest { Name = "alice" })).Peer;
        f.Connect(alice);
        f.Service.Map(new MapRequest { Client = alice.TunnelAddress, Protocol = MappingProtocol.Tcp, InternalPort = 80, Lifetime = TimeSpan.FromHours(1) });

        var view = await f.Operations.SetPolicyAsync(new ServerPolicy { ForwardingEnabled = false, MaxPerPeer = 2 });

        Assert.False(view.Effective!.Enabled);
        Assert.Equal(2, view.Effective!.MaxPerPeer);
        Assert.False(f.Service.Policy.Enabled);
        Assert.Empty(f.Service.Mappings);
        Assert.Equal(false, (await f.Store.GetPolicyAsync()).ForwardingEnabled);
        Assert.Equal(view, await f.Operations.GetPolicyAsync());
    }

    [Fact]
    public async Task SetPolicyAsync_Invalid_RejectedAndNothingStored()
    {
        await using var f = await CreateAsync();

        await Assert.ThrowsAsync<AdminRequestException>(() => f.Operations.SetPolicyAsync(new ServerPolicy { MaxPerPeer = -1 }));

        Assert.Null((await f.Store.GetPolicyAsync()).MaxPerPeer);
        Assert.Equal(new ForwardingPolicy().MaxPerPeer, f.Service.Policy.MaxPerPeer);
    }

    [Fact]
    public async Task SetPolicyAsync_MaxFiltersPerMapping_StoredInForceAndAFilterListLongerIsRefused()
    {
        await using var f = await CreateAsync();
        var alice = (await f.Operations.AddPeerAsync(new PeerRequest { Name = "alice" })).Peer;
        f.Connect(alice);
        RemoteFilter[] two = [new(IPNetwork.Parse("192.0.2.0/24"), 0), new(IPNetwork.Parse("203.0.113.9/32"), 0)];

        var view = await f.Operations.SetPolicyAsync(new ServerPolicy { MaxFiltersPerMapping = 1 });

        Assert.Equal(1, view.Effective!.MaxFiltersPerMapping);
        Assert.Equal(1, f.Service.Policy.MaxFiltersPerMapping);
        Assert.Equal(1, (await f.Store.GetPolicyAsync()).MaxFiltersPerMapping);
        var refused = f.Service.Map(new MapRequest
        {
            Client = alice.TunnelAddress,
            Protocol = MappingProtocol.Tcp,
            InternalPort = 80,
            Lifetime = TimeSpan.FromHours(1),
            Filters = two,
        });
        Assert.Equal(MapStatus.ExcessiveRemotePeers, refused.Status);
        await Assert.ThrowsAsync<AdminRequestException>(
            () => f.Operations.SetPolicyAsync(new ServerPolicy { MaxFiltersPerMapping = ForwardingPolicy.MaxFiltersPerMappingLimit + 1 }));
        Assert.Equal(1, f.Service.Policy.MaxFiltersPerMapping);
    }

    [Fact]
    public async Task GetStatusAndListPeers_CountWhatIsThere()
    {
        await using var f = await CreateAsync();
        var alice = (await f.Operations.AddPeerAsync(new PeerRequest { Name = "alice" })).Peer;
        await f.Operations.AddPeerAsync(new PeerRequest { Name = "bob" });
        await f.Operations.AddForwardAsync(new ForwardRequest { Peer = "alice", ExternalPort = 30000 });
        f.Connect(alice);

        var status = f.Operations.GetStatus();
        var peers = await f.Operations.ListPeersAsync();

        Assert.Equal((2, 1, 2, 0), (status.Peers, status.ConnectedPeers, status.LiveStaticForwards, status.DynamicMappings));
        Assert.Equal(("pc0", GatewayKey, (ushort)51820), (status.Interface, status.PublicKey, status.ListenPort));
        Assert.Equal([true, false], peers.OrderBy(p => p.Name).Select(p => p.Connected));
        Assert.NotNull(peers.Single(p => p.Name == "alice").LastHandshakeUtc);
        Assert.Equal(alice.Id, (await f.Operations.GetPeerAsync(alice.Id))?.Id);
        Assert.Null(await f.Operations.GetPeerAsync("carol"));
    }
}
