using System.Net;
using System.Runtime.Versioning;
using Portcullis.Gateway.Admin;
using Portcullis.Gateway.Fleet;
using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Store;
using Portcullis.Gateway.Tests.Store;
using Portcullis.Gateway.Tests.Store.Postgres;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Tests.Fleet;

/// <summary>
/// Two gateways on one real PostgreSQL, each with its own operations, service and device: what one is told reaches the
/// other through NOTIFY alone. Waits are for a condition, with a deadline far above the 2 s the fleet promises.
/// </summary>
[Collection(PostgresCollection.Name)]
[SupportedOSPlatform("linux")]
public sealed class FleetSyncTests(PostgresCluster cluster) : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);
    private readonly PostgresTarget _database = new(cluster);
    private FleetNode _a = null!;
    private FleetNode _b = null!;

    public async Task InitializeAsync()
    {
        _a = await FleetNode.StartAsync(_database.Url, "a", "198.51.100.10");
        _b = await FleetNode.StartAsync(_database.Url, "b", "198.51.100.20", new ForwardingPolicy { AllowSuggestedPort = true });
    }

    public async Task DisposeAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        _database.Dispose();
    }

    private static async Task Until(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"not within {Deadline}: {what}");
            await Task.Delay(20);
        }
    }

    private static async Task UntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"not within {Deadline}: {what}");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task PeerAddedOnA_CanConnectToB_AndRemovedOnA_IsCutOffOnB()
    {
        var key = StoreFixture.NewKey();
        var added = await _a.Operations.AddPeerAsync(new PeerRequest { Name = "alice", PublicKey = key });
        await Until(() => _b.Device.Held.ContainsKey(key), "alice in B's device");
        _b.Connect(key);

        Assert.Equal(added.Peer.TunnelAddress, _b.Device.Held[key]);
        Assert.True(await _a.Operations.RemovePeerAsync("alice"));
        await Until(() => !_b.Device.Held.ContainsKey(key), "alice out of B's device");
        Assert.Contains(added.Peer.TunnelAddress, _b.Flows.Cut);
        Assert.Null(_b.Peers.FindByKey(key));
    }

    [Fact]
    public async Task FleetWideForward_AddedOnA_LiveOnBWhereThePeerIs_DarkOnA_AndReservedOnBoth()
    {
        var key = StoreFixture.NewKey();
        await _a.Operations.AddPeerAsync(new PeerRequest { Name = "alice", PublicKey = key });
        var other = StoreFixture.NewKey();
        await _a.Operations.AddPeerAsync(new PeerRequest { Name = "bob", PublicKey = other });
        await Until(() => _b.Device.Held.ContainsKey(key) && _b.Device.Held.ContainsKey(other), "peers in B's device");
        _b.Connect(key);

        var views = await _a.Operations.AddForwardAsync(new ForwardRequest { Peer = "alice", Protocol = ForwardProtocol.Tcp, ExternalPort = 30000, InternalPort = 8080 });
        await Until(() => _b.Service.StaticForwards.Any(f => f.Live && f.Rule.ExternalPort == 30000), "the forward live on B");

        var view = Assert.Single(views!);
        Assert.Equal(IPAddress.Any, view.PublicAddress);
        Assert.False(view.Live);
        var entry = Assert.Single(_b.Table.Entries, e => e.PublicPort == 30000);
        Assert.Equal((IPAddress.Parse("198.51.100.20"), (ushort)8080), (entry.PublicAddress, entry.InternalPort));
        Assert.DoesNotContain(_a.Table.Entries, e => e.PublicPort == 30000);
        Assert.Contains(_a.Service.StaticForwards, s => s.Rule.ExternalPort == 30000 && s.Rule.PublicAddress.Equals(IPAddress.Parse("198.51.100.10")));

        // Bob, on B too, suggests the reserved port: B hands him another one.
        _b.Connect(other);
        var bob = _b.Peers.FindByKey(other)!;
        var answer = _b.Service.Map(new MapRequest
        {
            Client = bob.TunnelAddress,
            Protocol = MappingProtocol.Tcp,
            InternalPort = 9000,
            SuggestedExternalPort = 30000,
            Lifetime = TimeSpan.FromHours(1)
        });
        Assert.Equal(MapStatus.Success, answer.Status);
        Assert.NotEqual(30000, answer.ExternalPort);
        Assert.True((await _b.Operations.ListForwardsAsync()).Single().Live);
    }

    [Fact]
    public async Task DisabledOnA_IsCutOffOnB_AndEnabledAgainCanReturn()
    {
        var key = StoreFixture.NewKey();
        await _a.Operations.AddPeerAsync(new PeerRequest { Name = "alice", PublicKey = key });
        await Until(() => _b.Device.Held.ContainsKey(key), "alice in B's device");
        _b.Connect(key);

        await _a.Operations.SetPeerEnabledAsync("alice", false);
        await Until(() => !_b.Device.Held.ContainsKey(key), "alice cut off on B");
        await _a.Operations.SetPeerEnabledAsync("alice", true);
        await Until(() => _b.Device.Held.ContainsKey(key), "alice back in B's device");

        Assert.True(_b.Peers.FindByKey(key)!.Enabled);
        Assert.Single(_b.Flows.Cut);
    }

    [Fact]
    public async Task PolicySetForBThroughA_InForceOnBOnly_AndTheFleetsLayerUnderIt()
    {
        var view = await _a.Operations.SetPolicyAsync(new ServerPolicy { ForwardingEnabled = false }, "b");
        await Until(() => !_b.Service.Policy.Enabled, "forwarding off on B");
        await _b.Operations.SetPolicyAsync(new ServerPolicy { MaxPerPeer = 1 }, null);
        await Until(() => _a.Service.Policy.MaxPerPeer == 1, "the fleet's quota on A");

        Assert.Null(view.Effective);
        Assert.Equal("b", view.Gateway);
        Assert.True(_a.Service.Policy.Enabled);
        Assert.False(_b.Service.Policy.Enabled);
        Assert.Equal(1, _b.Service.Policy.MaxPerPeer);
    }

    [Fact]
    public async Task ListenerKilled_ReconnectsAndCatchesUp_ChangesFlowAgain()
    {
        var key = StoreFixture.NewKey();
        var before = _b.CaughtUpCount;
        cluster.Execute($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{_database.Database}' AND query LIKE 'LISTEN%' OR (datname = '{_database.Database}' AND query = 'SELECT 1')",
            _database.Database);
        await Until(() => _b.CaughtUpCount > before && _a.CaughtUpCount > 0, "both caught up after the reconnect");

        await _a.Operations.AddPeerAsync(new PeerRequest { Name = "alice", PublicKey = key });
        await Until(() => _b.Device.Held.ContainsKey(key), "alice in B's device");
    }

    [Fact]
    public async Task ChangesMadeWhileUnattached_AreAllThereAfterCatchUp()
    {
        await using var c = await FleetNode.StartAsync(_database.Url, "c", "198.51.100.30", attach: false);
        var kept = StoreFixture.NewKey();
        var gone = StoreFixture.NewKey();
        await _a.Operations.AddPeerAsync(new PeerRequest { Name = "kept", PublicKey = kept });
        await _a.Operations.AddPeerAsync(new PeerRequest { Name = "gone", PublicKey = gone });
        await _a.Operations.AddForwardAsync(new ForwardRequest { Peer = "kept", Protocol = ForwardProtocol.Udp, ExternalPort = 31000 });

        await c.Operations.ApplyFleetChangesAsync(FleetChanges.All, CancellationToken.None);
        await _a.Operations.RemovePeerAsync("gone");
        await c.Operations.ApplyFleetChangesAsync(FleetChanges.All, CancellationToken.None);

        Assert.True(c.Device.Held.ContainsKey(kept));
        Assert.False(c.Device.Held.ContainsKey(gone));
        var rule = Assert.Single(c.Service.StaticForwards).Rule;
        Assert.Equal((IPAddress.Parse("198.51.100.30"), MappingProtocol.Udp, (ushort)31000), (rule.PublicAddress, rule.Protocol, rule.ExternalPort));
    }

    [Fact]
    public async Task Presence_PeerListSaysWhichGatewayAConnectedPeerIsOn()
    {
        var key = StoreFixture.NewKey();
        await _a.Operations.AddPeerAsync(new PeerRequest { Name = "alice", PublicKey = key });
        await Until(() => _b.Device.Held.ContainsKey(key), "alice in B's device");
        _b.Connect(key);

        await UntilAsync(async () => (await _a.Operations.GetPeerAsync("alice"))!.Gateway == "b", "A says alice is on b");
        var onB = await _b.Operations.GetPeerAsync("alice");
        var fleet = await _a.Operations.GetFleetAsync();

        Assert.Equal("b", onB!.Gateway);
        Assert.Equal(["a", "b"], fleet.Gateways.Select(g => g.Name));
        Assert.All(fleet.Gateways, g => Assert.True(g.Up));
    }

    [Fact]
    public async Task PresenceOff_ConnectedPeersStayOutOfTheStore_TheGatewayStillKnowsThem()
    {
        await using var c = await FleetNode.StartAsync(_database.Url, "c", "198.51.100.30", presence: false);
        var (alice, bob) = (StoreFixture.NewKey(), StoreFixture.NewKey());
        await _a.Operations.AddPeerAsync(new PeerRequest { Name = "alice", PublicKey = alice });
        await _a.Operations.AddPeerAsync(new PeerRequest { Name = "bob", PublicKey = bob });
        await Until(() => c.Device.Held.ContainsKey(alice) && c.Device.Held.ContainsKey(bob), "alice and bob in C's device");

        // One at a time through C's presence loop: once bob is counted, alice's row would have been written.
        c.Connect(alice);
        await Until(() => c.Member.ConnectedHere == 1, "C counted alice");
        c.Connect(bob);
        await Until(() => c.Member.ConnectedHere == 2, "C counted bob");

        Assert.Empty(await c.Member.Store.ListPresenceAsync());
        Assert.Null((await _a.Operations.GetPeerAsync("alice"))!.Gateway);
        Assert.Equal("c", (await c.Operations.GetPeerAsync("alice"))!.Gateway);
    }
}
