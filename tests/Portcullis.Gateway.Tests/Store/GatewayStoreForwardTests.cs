using System.Net;
using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Store;
using Portcullis.PortMapping;
using static Portcullis.Gateway.Tests.Store.GatewayStorePeerTests;

namespace Portcullis.Gateway.Tests.Store;

public abstract class GatewayStoreForwardTests : IDisposable
{
    private static readonly IPAddress Shared = IPAddress.Parse("198.51.100.10");
    private static readonly IPAddress Other = IPAddress.Parse("198.51.100.11");
    private readonly IStoreTarget _fixture;

    protected GatewayStoreForwardTests(IStoreTarget target) => _fixture = target;

    public void Dispose()
    {
        _fixture.Dispose();
        GC.SuppressFinalize(this);
    }

    private static Task<StoredPeer> AddAsync(IGatewayStore store, string name) =>
        store.AddPeerAsync(new NewPeer { Name = name, PublicKey = StoreFixture.NewKey() }, StoreFixture.Pool);

    [Fact]
    public async Task AddForwardAsync_RoundTripsAfterReopen_AndListsByPeer()
    {
        StoredForward tcp, udp, bobs;
        string aliceId;
        await using (var store = await _fixture.OpenAsync())
        {
            var alice = await AddAsync(store, "alice");
            var bob = await AddAsync(store, "bob");
            aliceId = alice.Id;
            tcp = (await store.AddForwardAsync(Forward(Shared, 30000, alice.Id) with { InternalPort = 8080 }))!;
            udp = (await store.AddForwardAsync(Forward(Shared, 30000, alice.Id, MappingProtocol.Udp) with { InternalPort = 9090 }))!;
            bobs = (await store.AddForwardAsync(Forward(Other, 30000, bob.Id)))!;
        }

        await using var reopened = await _fixture.OpenAsync();

        var all = await reopened.ListForwardsAsync();
        Assert.Equal(3, all.Count);
        Assert.Contains(tcp, all);
        Assert.Contains(udp, all);
        Assert.Contains(bobs, all);
        var alices = await reopened.ListForwardsAsync(aliceId);
        Assert.Equal(2, alices.Count);
        Assert.All(alices, f => Assert.Equal(aliceId, f.PeerId));
        Assert.Equal(9090, alices.Single(f => f.Protocol == MappingProtocol.Udp).InternalPort);
    }

    [Fact]
    public async Task AddForwardAsync_SameKeyForAnyPeer_ThrowsConflictNamingTheKey()
    {
        await using var store = await _fixture.OpenAsync();
        var alice = await AddAsync(store, "alice");
        var bob = await AddAsync(store, "bob");
        var first = await store.AddForwardAsync(Forward(Shared, 30000, alice.Id));

        var e = await Assert.ThrowsAsync<StoreConflictException>(() => store.AddForwardAsync(Forward(Shared, 30000, bob.Id) with { InternalPort = 1234 }));

        Assert.Equal(StoreConflict.StaticForward, e.Conflict);
        Assert.Equal("198.51.100.10 tcp 30000", e.Value);
        Assert.Contains("198.51.100.10 tcp 30000", e.Message, StringComparison.Ordinal);
        Assert.Equal([first!], await store.ListForwardsAsync());
    }

    [Fact]
    public async Task AddForwardAsync_UnknownPeer_IsNull()
    {
        await using var store = await _fixture.OpenAsync();

        Assert.Null(await store.AddForwardAsync(Forward(Shared, 30000, "nobody")));
        Assert.Empty(await store.ListForwardsAsync());
    }

    [Fact]
    public async Task RemoveForwardAsync_RemovesOnlyThatKey()
    {
        await using var store = await _fixture.OpenAsync();
        var alice = await AddAsync(store, "alice");
        var tcp = await store.AddForwardAsync(Forward(Shared, 30000, alice.Id));
        var udp = await store.AddForwardAsync(Forward(Shared, 30000, alice.Id, MappingProtocol.Udp));

        Assert.True(await store.RemoveForwardAsync(tcp!.Key));

        Assert.Equal([udp!], await store.ListForwardsAsync());
        Assert.False(await store.RemoveForwardAsync(tcp.Key));
    }

    [Fact]
    public async Task AssignDedicatedAddressAsync_RoundTrips_IsIdempotent_AndConflictsForAnotherPeer()
    {
        await using var store = await _fixture.OpenAsync();
        var alice = await AddAsync(store, "alice");
        var bob = await AddAsync(store, "bob");

        var assigned = await store.AssignDedicatedAddressAsync(Other, alice.Id);
        var again = await store.AssignDedicatedAddressAsync(Other, alice.Id);
        var e = await Assert.ThrowsAsync<StoreConflictException>(() => store.AssignDedicatedAddressAsync(Other, bob.Id));

        Assert.Equal(new DedicatedAddress(Other, alice.Id), assigned);
        Assert.Equal(assigned, again);
        Assert.Equal(StoreConflict.DedicatedAddress, e.Conflict);
        Assert.Equal("198.51.100.11", e.Value);
        Assert.Equal([assigned!], await store.ListDedicatedAddressesAsync());
        Assert.Null(await store.AssignDedicatedAddressAsync(Shared, "nobody"));
    }

    [Fact]
    public async Task AssignDedicatedAddressAsync_Ipv6BesideIpv4_BothRoundTripAfterReopenAndConflictAsIpv4()
    {
        var own6 = IPAddress.Parse("2001:db8:1::11");
        string aliceId, bobId;
        await using (var store = await _fixture.OpenAsync())
        {
            var alice = await AddAsync(store, "alice");
            bobId = (await AddAsync(store, "bob")).Id;
            aliceId = alice.Id;
            await store.AssignDedicatedAddressAsync(Other, alice.Id);
            await store.AssignDedicatedAddressAsync(IPAddress.Parse("2001:0db8:0001::0011"), alice.Id);
        }

        await using var reopened = await _fixture.OpenAsync();
        var e = await Assert.ThrowsAsync<StoreConflictException>(() => reopened.AssignDedicatedAddressAsync(own6, bobId));

        Assert.Equal(
            [new DedicatedAddress(Other, aliceId), new DedicatedAddress(own6, aliceId)],
            (await reopened.ListDedicatedAddressesAsync()).OrderBy(d => d.Address.AddressFamily).ToList());
        Assert.Equal((StoreConflict.DedicatedAddress, "2001:db8:1::11"), (e.Conflict, e.Value));
    }

    [Fact]
    public async Task ReleaseDedicatedAddressAsync_FreesItForAnotherPeer()
    {
        await using var store = await _fixture.OpenAsync();
        var alice = await AddAsync(store, "alice");
        var bob = await AddAsync(store, "bob");
        await store.AssignDedicatedAddressAsync(Other, alice.Id);

        Assert.True(await store.ReleaseDedicatedAddressAsync(Other));
        Assert.False(await store.ReleaseDedicatedAddressAsync(Other));
        var reassigned = await store.AssignDedicatedAddressAsync(Other, bob.Id);

        Assert.Equal([reassigned!], await store.ListDedicatedAddressesAsync());
    }

    [Fact]
    public async Task GetPolicyAsync_NeverSet_IsAllNullAndLeavesConfigAlone()
    {
        await using var store = await _fixture.OpenAsync();
        var configured = new ForwardingPolicy { MaxPerPeer = 7 };

        var policy = await store.GetPolicyAsync();

        Assert.Equal(new ServerPolicy(), policy);
        Assert.Equal(configured, policy.ApplyTo(configured));
    }

    [Fact]
    public async Task SetPolicyAsync_RoundTripsAfterReopen_AndOverridesTheConfig()
    {
        var set = new ServerPolicy
        {
            ForwardingEnabled = false,
            PortRange = new PortRange(40000, 40999),
            MaxPerPeer = 2,
            ForwardAllDedicatedPorts = true,
        };
        await using (var store = await _fixture.OpenAsync())
            await store.SetPolicyAsync(set);

        await using var reopened = await _fixture.OpenAsync();
        var read = await reopened.GetPolicyAsync();
        var applied = read.ApplyTo(new ForwardingPolicy());

        Assert.Equal(set, read);
        Assert.False(applied.Enabled);
        Assert.Equal(new PortRange(40000, 40999), applied.PortRange);
        Assert.Equal(2, applied.MaxPerPeer);
        Assert.True(applied.ForwardAllDedicatedPorts);
    }

    [Fact]
    public async Task SetPolicyAsync_NullValue_RemovesThatOverrideOnly()
    {
        await using var store = await _fixture.OpenAsync();
        await store.SetPolicyAsync(new ServerPolicy { ForwardingEnabled = false, MaxPerPeer = 2 });

        await store.SetPolicyAsync(new ServerPolicy { MaxPerPeer = 3 });

        Assert.Equal(new ServerPolicy { MaxPerPeer = 3 }, await store.GetPolicyAsync());
    }
}
