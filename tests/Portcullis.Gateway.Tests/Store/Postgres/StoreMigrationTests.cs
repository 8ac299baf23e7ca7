using System.Net;
using System.Runtime.Versioning;
using Portcullis.Gateway.Store;
using Portcullis.Gateway.Store.Postgres;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Tests.Store.Postgres;

[Collection(PostgresCollection.Name)]
[SupportedOSPlatform("linux")]
public sealed class StoreMigrationTests(PostgresCluster cluster) : IDisposable
{
    private readonly StoreFixture _box = new();
    private readonly PostgresTarget _fleet = new(cluster);

    public void Dispose()
    {
        _box.Dispose();
        _fleet.Dispose();
    }

    private static readonly byte[] AliceFloor = [0x40, 0, 0, 0, 0x69, 0, 0, 0, 0, 0, 0, 7];

    private async Task<(StoredPeer Alice, StoredPeer Bob)> FillBoxAsync()
    {
        await using var box = await _box.OpenAsync();
        var alice = await box.AddPeerAsync(new NewPeer { Name = "alice", PublicKey = StoreFixture.NewKey() }, StoreFixture.Pool);
        var bob = await box.AddPeerAsync(new NewPeer { Name = "bob", PublicKey = StoreFixture.NewKey() }, StoreFixture.Pool);
        await box.SetPeerEnabledAsync(bob.Id, false);
        await box.AddForwardAsync(GatewayStorePeerTests.Forward(IPAddress.Parse("198.51.100.10"), 30000, alice.Id, MappingProtocol.Udp));
        await box.AssignDedicatedAddressAsync(IPAddress.Parse("198.51.100.11"), bob.Id);
        await box.SetPolicyAsync(new ServerPolicy { MaxPerPeer = 2 });
        await box.RaiseReplayFloorsAsync([new(alice.PublicKey, AliceFloor)]);
        return (alice, bob with { Enabled = false });
    }

    [Fact]
    public async Task CopyAsync_TwiceIntoAnEmptyFleet_CopiesEverythingOnceKeepingIds()
    {
        var (alice, bob) = await FillBoxAsync();

        var first = await StoreMigration.CopyAsync(_box.DatabasePath, PostgresUrl.Parse(_fleet.Url), "ams-1", null, CancellationToken.None);
        var second = await StoreMigration.CopyAsync(_box.DatabasePath, PostgresUrl.Parse(_fleet.Url), "ams-1", null, CancellationToken.None);

        Assert.Equal((2, 1, 1, 1, 1), (first.Peers, first.Forwards, first.Dedicated, first.Settings, first.ReplayFloors));
        Assert.Equal((0, 2, 0, 1, 0, 1, 0, 0), (second.Peers, second.PeersThere, second.Forwards, second.ForwardsThere, second.Dedicated,
            second.DedicatedThere, second.Settings, second.ReplayFloors));
        await using var fleet = await _fleet.OpenPostgresAsync("");
        // Both were made at the same (fake) instant: the store orders them by their random ids.
        Assert.Equal([alice, bob], (await fleet.ListPeersAsync()).OrderBy(p => p.Name));
        Assert.Equal(alice.Id, Assert.Single(await fleet.ListForwardsAsync()).PeerId);
        Assert.Equal(new DedicatedAddress(IPAddress.Parse("198.51.100.11"), bob.Id) { Gateway = "ams-1" }, Assert.Single(await fleet.ListDedicatedAddressesAsync()));
        Assert.Equal(new ServerPolicy { MaxPerPeer = 2 }, await fleet.GetGatewayPolicyAsync("ams-1"));
        Assert.Equal(new ServerPolicy(), await fleet.GetPolicyAsync());
        Assert.Equal(AliceFloor, Assert.Single(await fleet.ListReplayFloorsAsync()).Value);
    }

    [Fact]
    public async Task CopyAsync_ANameTheFleetHasUnderAnotherId_CopiesNothingAndSaysWho()
    {
        await FillBoxAsync();
        await using (var fleet = await _fleet.OpenPostgresAsync(""))
            await fleet.AddPeerAsync(new NewPeer { Name = "bob", PublicKey = StoreFixture.NewKey(), TunnelAddress = IPAddress.Parse("10.99.9.9") }, StoreFixture.Pool);

        var e = await Assert.ThrowsAsync<StoreConflictException>(
            () => StoreMigration.CopyAsync(_box.DatabasePath, PostgresUrl.Parse(_fleet.Url), "ams-1", null, CancellationToken.None));

        Assert.Equal(StoreConflict.PeerName, e.Conflict);
        Assert.Contains("'bob'", e.Message, StringComparison.Ordinal);
        await using var after = await _fleet.OpenPostgresAsync("");
        Assert.Equal(["bob"], (await after.ListPeersAsync()).Select(p => p.Name));
        Assert.Empty(await after.ListForwardsAsync());
    }

    [Fact]
    public async Task CopyAsync_DedicatedAddressesWithoutAGatewayName_Refused()
    {
        await FillBoxAsync();

        await Assert.ThrowsAsync<ArgumentException>(
            () => StoreMigration.CopyAsync(_box.DatabasePath, PostgresUrl.Parse(_fleet.Url), "", null, CancellationToken.None));
    }
}
