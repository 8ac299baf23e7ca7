using System.Net;
using Portcullis.Gateway.Store;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Tests.Store;

public abstract class GatewayStoreConfigApplyTests : IDisposable
{
    private static readonly IPAddress Shared = IPAddress.Parse("198.51.100.10");
    private static readonly IPAddress Dedicated = IPAddress.Parse("198.51.100.11");
    private readonly IStoreTarget _fixture;
    private readonly string _aliceKey = StoreFixture.NewKey();
    private readonly string _bobKey = StoreFixture.NewKey();

    protected GatewayStoreConfigApplyTests(IStoreTarget target) => _fixture = target;

    public void Dispose()
    {
        _fixture.Dispose();
        GC.SuppressFinalize(this);
    }

    private ConfiguredPeer Alice(IPAddress? address = null, ushort internalPort = 8080) => new()
    {
        Name = "alice",
        PublicKey = _aliceKey,
        TunnelAddress = address,
        DedicatedAddress = Dedicated,
        Forwards =
        [
            new ConfiguredForward(Dedicated, MappingProtocol.Tcp, 30000, internalPort),
            new ConfiguredForward(Dedicated, MappingProtocol.Udp, 30000, internalPort),
        ],
    };

    [Fact]
    public async Task ApplyConfigPeersAsync_FirstStart_AddsPeersAddressesAndForwards_ThenSecondStartChangesNothing()
    {
        await using var store = await _fixture.OpenAsync();
        var file = new[] { Alice(), new ConfiguredPeer { Name = "bob", PublicKey = _bobKey, TunnelAddress = IPAddress.Parse("10.99.0.9") } };

        var first = await store.ApplyConfigPeersAsync(file, StoreFixture.Pool);
        var peers = await store.ListPeersAsync();
        var second = await store.ApplyConfigPeersAsync(file, StoreFixture.Pool);

        Assert.Equal(2, first.Added.Count);
        Assert.True(second.IsEmpty);
        var alice = peers.Single(p => p.Name == "alice");
        var bob = peers.Single(p => p.Name == "bob");
        Assert.Equal(IPAddress.Parse("10.99.0.2"), alice.TunnelAddress);
        Assert.Equal(IPAddress.Parse("10.99.0.9"), bob.TunnelAddress);
        Assert.Equal(_bobKey, bob.PublicKey);
        Assert.Equal([new DedicatedAddress(Dedicated, alice.Id)], await store.ListDedicatedAddressesAsync());
        var forwards = await store.ListForwardsAsync(alice.Id);
        Assert.Equal(2, forwards.Count);
        Assert.All(forwards, f => Assert.Equal((Dedicated, (ushort)30000, (ushort)8080), (f.PublicAddress, f.ExternalPort, f.InternalPort)));
        Assert.Equal(peers, await store.ListPeersAsync());
    }

    [Fact]
    public async Task ApplyConfigPeersAsync_FileChanged_UpdatesThePeerInPlace()
    {
        await using var store = await _fixture.OpenAsync();
        await store.ApplyConfigPeersAsync([Alice()], StoreFixture.Pool);
        var before = Assert.Single(await store.ListPeersAsync());
        await store.SetPeerEnabledAsync(before.Id, false);

        var changes = await store.ApplyConfigPeersAsync(
            [Alice(IPAddress.Parse("10.99.0.20"), internalPort: 9000) with { Name = "alice-laptop" }], StoreFixture.Pool);

        var after = Assert.Single(await store.ListPeersAsync());
        Assert.Equal(before with { Name = "alice-laptop", TunnelAddress = IPAddress.Parse("10.99.0.20"), Enabled = false }, after);
        Assert.Single(changes.Updated);
        Assert.Equal(2, changes.Forwards.Count);
        Assert.All(await store.ListForwardsAsync(), f => Assert.Equal(9000, f.InternalPort));
    }

    [Fact]
    public async Task ApplyConfigPeersAsync_FileWinsOverApiChanges_ForWhatItNames()
    {
        await using var store = await _fixture.OpenAsync();
        var bob = await store.AddPeerAsync(new NewPeer { Name = "bob", PublicKey = _bobKey }, StoreFixture.Pool);
        await store.AssignDedicatedAddressAsync(Dedicated, bob.Id);
        await store.AddForwardAsync(new StoredForward
        {
            PublicAddress = Dedicated,
            Protocol = MappingProtocol.Tcp,
            ExternalPort = 30000,
            PeerId = bob.Id,
            InternalPort = 22,
        });
        var bobsOwn = await store.AddForwardAsync(new StoredForward
        {
            PublicAddress = Shared,
            Protocol = MappingProtocol.Tcp,
            ExternalPort = 31000,
            PeerId = bob.Id,
            InternalPort = 22,
        });

        await store.ApplyConfigPeersAsync([Alice(bob.TunnelAddress)], StoreFixture.Pool);

        var alice = (await store.FindPeerByPublicKeyAsync(_aliceKey))!;
        var movedBob = (await store.GetPeerAsync(bob.Id))!;
        Assert.Equal(IPAddress.Parse("10.99.0.2"), alice.TunnelAddress);
        Assert.Equal(IPAddress.Parse("10.99.0.3"), movedBob.TunnelAddress);
        Assert.Equal(bob with { TunnelAddress = IPAddress.Parse("10.99.0.3") }, movedBob);
        Assert.Equal([new DedicatedAddress(Dedicated, alice.Id)], await store.ListDedicatedAddressesAsync());
        Assert.Equal(2, (await store.ListForwardsAsync(alice.Id)).Count);
        Assert.Equal([bobsOwn!], await store.ListForwardsAsync(bob.Id));
    }

    [Fact]
    public async Task ApplyConfigPeersAsync_PeersNotInFile_AreUntouched()
    {
        await using var store = await _fixture.OpenAsync();
        var carol = await store.AddPeerAsync(new NewPeer { Name = "carol", PublicKey = StoreFixture.NewKey() }, StoreFixture.Pool);
        await store.SetPeerEnabledAsync(carol.Id, false);
        var carolsForward = await store.AddForwardAsync(new StoredForward
        {
            PublicAddress = Shared,
            Protocol = MappingProtocol.Udp,
            ExternalPort = 40000,
            PeerId = carol.Id,
            InternalPort = 40000,
        });
        var carolBefore = await store.GetPeerAsync(carol.Id);

        await store.ApplyConfigPeersAsync([Alice()], StoreFixture.Pool);
        await store.ApplyConfigPeersAsync([], StoreFixture.Pool);

        Assert.Equal(carolBefore, await store.GetPeerAsync(carol.Id));
        Assert.Equal([carolsForward!], await store.ListForwardsAsync(carol.Id));
        Assert.Equal(2, (await store.ListPeersAsync()).Count);
    }

    [Fact]
    public async Task ApplyConfigPeersAsync_SwapsAddressesAndNames_WithoutUniqueClashes()
    {
        await using var store = await _fixture.OpenAsync();
        await store.ApplyConfigPeersAsync(
            [
                new ConfiguredPeer { Name = "alice", PublicKey = _aliceKey, TunnelAddress = IPAddress.Parse("10.99.0.2") },
                new ConfiguredPeer { Name = "bob", PublicKey = _bobKey, TunnelAddress = IPAddress.Parse("10.99.0.3") },
            ], StoreFixture.Pool);

        await store.ApplyConfigPeersAsync(
            [
                new ConfiguredPeer { Name = "bob", PublicKey = _aliceKey, TunnelAddress = IPAddress.Parse("10.99.0.3") },
                new ConfiguredPeer { Name = "alice", PublicKey = _bobKey, TunnelAddress = IPAddress.Parse("10.99.0.2") },
            ], StoreFixture.Pool);

        var byKey = await store.FindPeerByPublicKeyAsync(_aliceKey);
        Assert.Equal(("bob", IPAddress.Parse("10.99.0.3")), (byKey!.Name, byKey.TunnelAddress));
        var other = await store.FindPeerByPublicKeyAsync(_bobKey);
        Assert.Equal(("alice", IPAddress.Parse("10.99.0.2")), (other!.Name, other.TunnelAddress));
    }

    [Fact]
    public async Task ApplyConfigPeersAsync_PoolRunsOut_ChangesNothing()
    {
        var tiny = new TunnelAddressPool(IPNetwork.Parse("10.99.0.0/29"), IPAddress.Parse("10.99.0.1"));
        await using var store = await _fixture.OpenAsync();
        var file = Enumerable.Range(0, 7).Select(i => new ConfiguredPeer { Name = $"p{i}", PublicKey = StoreFixture.NewKey() }).ToList();

        await Assert.ThrowsAsync<StoreConflictException>(() => store.ApplyConfigPeersAsync(file, tiny));

        Assert.Empty(await store.ListPeersAsync());
    }
}
