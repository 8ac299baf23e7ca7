using System.Net;
using Portcullis.Gateway.Store;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Tests.Store;

public abstract class GatewayStorePeerTests : IDisposable
{
    private readonly IStoreTarget _fixture;

    protected GatewayStorePeerTests(IStoreTarget target) => _fixture = target;

    public void Dispose()
    {
        _fixture.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task AddPeerAsync_WithoutAddress_AllocatesLowestFreeAndRoundTripsAfterReopen()
    {
        var key = StoreFixture.NewKey();
        StoredPeer added;
        await using (var store = await _fixture.OpenAsync())
        {
            added = await store.AddPeerAsync(new NewPeer { Name = "alice", PublicKey = key }, StoreFixture.Pool);
        }

        await using var reopened = await _fixture.OpenAsync();
        var peers = await reopened.ListPeersAsync();

        var peer = Assert.Single(peers);
        Assert.Equal(added, peer);
        Assert.Equal("alice", peer.Name);
        Assert.Equal(key, peer.PublicKey);
        Assert.Equal(IPAddress.Parse("10.99.0.2"), peer.TunnelAddress);
        Assert.True(peer.Enabled);
        Assert.Equal(_fixture.Time.GetUtcNow(), peer.CreatedUtc);
        Assert.False(string.IsNullOrEmpty(peer.Id));
        Assert.Equal(peer, await reopened.GetPeerAsync(peer.Id));
        Assert.Equal(peer, await reopened.FindPeerByPublicKeyAsync(key));
    }

    [Fact]
    public async Task ListPeersPageAsync_PagesInListOrder_WithTheTotal()
    {
        await using var store = await _fixture.OpenAsync();
        for (var i = 0; i < 5; i++)
        {
            await store.AddPeerAsync(new NewPeer { Name = $"p{i}", PublicKey = StoreFixture.NewKey() }, StoreFixture.Pool);
            _fixture.Time.Advance(TimeSpan.FromSeconds(1));
        }
        var all = await store.ListPeersAsync();

        var first = await store.ListPeersPageAsync(0, 2);
        var second = await store.ListPeersPageAsync(2, 2);
        var last = await store.ListPeersPageAsync(4, 2);
        var past = await store.ListPeersPageAsync(9, 2);

        Assert.Equal(all, [.. first.Page, .. second.Page, .. last.Page]);
        Assert.Single(last.Page);
        Assert.Empty(past.Page);
        Assert.All(new[] { first.Total, second.Total, last.Total, past.Total }, total => Assert.Equal(5, total));
    }

    [Fact]
    public async Task AddPeerAsync_SeveralAndPinned_SkipsTakenAddresses()
    {
        await using var store = await _fixture.OpenAsync();

        var pinned = await store.AddPeerAsync(new NewPeer { Name = "pinned", PublicKey = StoreFixture.NewKey(), TunnelAddress = IPAddress.Parse("10.99.0.3") }, StoreFixture.Pool);
        var first = await store.AddPeerAsync(new NewPeer { Name = "first", PublicKey = StoreFixture.NewKey() }, StoreFixture.Pool);
        var second = await store.AddPeerAsync(new NewPeer { Name = "second", PublicKey = StoreFixture.NewKey() }, StoreFixture.Pool);

        Assert.Equal(IPAddress.Parse("10.99.0.3"), pinned.TunnelAddress);
        Assert.Equal(IPAddress.Parse("10.99.0.2"), first.TunnelAddress);
        Assert.Equal(IPAddress.Parse("10.99.0.4"), second.TunnelAddress);
        Assert.NotEqual(first.Id, second.Id);
        Assert.Equal(3, (await store.ListPeersAsync()).Count);
    }

    [Theory]
    [InlineData(StoreConflict.PeerName)]
    [InlineData(StoreConflict.PeerPublicKey)]
    [InlineData(StoreConflict.TunnelAddress)]
    public async Task AddPeerAsync_Duplicate_ThrowsConflictNamingItAndChangesNothing(StoreConflict clash)
    {
        await using var store = await _fixture.OpenAsync();
        var existing = await store.AddPeerAsync(new NewPeer { Name = "alice", PublicKey = StoreFixture.NewKey() }, StoreFixture.Pool);
        var duplicate = new NewPeer
        {
            Name = clash == StoreConflict.PeerName ? "alice" : "bob",
            PublicKey = clash == StoreConflict.PeerPublicKey ? existing.PublicKey : StoreFixture.NewKey(),
            TunnelAddress = clash == StoreConflict.TunnelAddress ? existing.TunnelAddress : null,
        };

        var e = await Assert.ThrowsAsync<StoreConflictException>(() => store.AddPeerAsync(duplicate, StoreFixture.Pool));

        Assert.Equal(clash, e.Conflict);
        var expected = clash switch
        {
            StoreConflict.PeerName => "alice",
            StoreConflict.PeerPublicKey => existing.PublicKey,
            _ => "10.99.0.2",
        };
        Assert.Equal(expected, e.Value);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.Equal([existing], await store.ListPeersAsync());
    }

    [Fact]
    public async Task AddPeerAsync_PoolFull_ThrowsExhausted()
    {
        var tiny = new TunnelAddressPool(IPNetwork.Parse("10.99.0.0/30"), IPAddress.Parse("10.99.0.1"));
        await using var store = await _fixture.OpenAsync();
        await store.AddPeerAsync(new NewPeer { Name = "only", PublicKey = StoreFixture.NewKey() }, tiny);

        var e = await Assert.ThrowsAsync<StoreConflictException>(
            () => store.AddPeerAsync(new NewPeer { Name = "late", PublicKey = StoreFixture.NewKey() }, tiny));

        Assert.Equal(StoreConflict.AddressPoolExhausted, e.Conflict);
        Assert.Contains("late", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("10.98.0.5")]
    [InlineData("10.99.0.1")]
    [InlineData("10.99.0.0")]
    [InlineData("10.99.255.255")]
    public async Task AddPeerAsync_AddressNotAssignable_ThrowsArgumentException(string address)
    {
        await using var store = await _fixture.OpenAsync();

        await Assert.ThrowsAsync<ArgumentException>(() => store.AddPeerAsync(
            new NewPeer { Name = "x", PublicKey = StoreFixture.NewKey(), TunnelAddress = IPAddress.Parse(address) }, StoreFixture.Pool));

        Assert.Empty(await store.ListPeersAsync());
    }

    [Fact]
    public async Task AddPeerAsync_ManyAtOnce_EachGetsItsOwnAddress()
    {
        await using var store = await _fixture.OpenAsync();

        var added = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Task.Run(() =>
            store.AddPeerAsync(new NewPeer { Name = $"p{i}", PublicKey = StoreFixture.NewKey() }, StoreFixture.Pool))));

        Assert.Equal(20, added.Select(p => p.TunnelAddress).Distinct().Count());
        Assert.Equal(20, (await store.ListPeersAsync()).Count);
    }

    [Fact]
    public async Task SetPeerEnabledAsync_RoundTrips_AndUnknownIdIsFalse()
    {
        await using var store = await _fixture.OpenAsync();
        var peer = await store.AddPeerAsync(new NewPeer { Name = "alice", PublicKey = StoreFixture.NewKey() }, StoreFixture.Pool);

        Assert.True(await store.SetPeerEnabledAsync(peer.Id, false));
        var disabled = await store.GetPeerAsync(peer.Id);
        Assert.True(await store.SetPeerEnabledAsync(peer.Id, true));
        var enabled = await store.GetPeerAsync(peer.Id);

        Assert.False(disabled!.Enabled);
        Assert.True(enabled!.Enabled);
        Assert.False(await store.SetPeerEnabledAsync("no-such-peer", false));
    }

    [Fact]
    public async Task RemovePeerAsync_RemovesItsForwardsAndDedicatedAddressesOnly()
    {
        await using var store = await _fixture.OpenAsync();
        var alice = await store.AddPeerAsync(new NewPeer { Name = "alice", PublicKey = StoreFixture.NewKey() }, StoreFixture.Pool);
        var bob = await store.AddPeerAsync(new NewPeer { Name = "bob", PublicKey = StoreFixture.NewKey() }, StoreFixture.Pool);
        var shared = IPAddress.Parse("198.51.100.10");
        await store.AddForwardAsync(Forward(shared, 30000, alice.Id));
        var bobsForward = await store.AddForwardAsync(Forward(shared, 30001, bob.Id));
        await store.AssignDedicatedAddressAsync(IPAddress.Parse("198.51.100.11"), alice.Id);
        var bobsAddress = await store.AssignDedicatedAddressAsync(IPAddress.Parse("198.51.100.12"), bob.Id);

        Assert.True(await store.RemovePeerAsync(alice.Id));

        Assert.Equal([bob], await store.ListPeersAsync());
        Assert.Null(await store.GetPeerAsync(alice.Id));
        Assert.Equal([bobsForward!], await store.ListForwardsAsync());
        Assert.Equal([bobsAddress!], await store.ListDedicatedAddressesAsync());
        Assert.False(await store.RemovePeerAsync(alice.Id));
    }

    [Fact]
    public async Task GetPeerAsync_Unknown_IsNull()
    {
        await using var store = await _fixture.OpenAsync();

        Assert.Null(await store.GetPeerAsync("nobody"));
        Assert.Null(await store.FindPeerByPublicKeyAsync(StoreFixture.NewKey()));
    }

    [Fact]
    public async Task Operations_AfterDispose_ThrowObjectDisposed()
    {
        var store = await _fixture.OpenAsync();
        await store.DisposeAsync();
        await store.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => store.ListPeersAsync());
    }

    internal static StoredForward Forward(IPAddress address, ushort port, string peerId, MappingProtocol protocol = MappingProtocol.Tcp) => new()
    {
        PublicAddress = address,
        Protocol = protocol,
        ExternalPort = port,
        PeerId = peerId,
        InternalPort = 8080,
    };
}
