using Portcullis.Gateway.Store;

namespace Portcullis.Gateway.Tests.Store;

/// <summary>Replay floors are kept per key, only ever rise, outlive their peer and a reopen.</summary>
public abstract class GatewayStoreReplayFloorTests : IDisposable
{
    private readonly IStoreTarget _fixture;

    protected GatewayStoreReplayFloorTests(IStoreTarget target) => _fixture = target;

    public void Dispose()
    {
        _fixture.Dispose();
        GC.SuppressFinalize(this);
    }

    private static byte[] Floor(byte last) => [0x40, 0, 0, 0, 0x69, 0, 0, 0, 0, 0, 0, last];

    private async Task<(IGatewayStore Store, IReplayFloorStore Floors)> OpenAsync()
    {
        var store = await _fixture.OpenAsync();
        return (store, Assert.IsAssignableFrom<IReplayFloorStore>(store));
    }

    [Fact]
    public async Task RaiseReplayFloors_HigherReplacesLowerNeverDoes_KeptAcrossReopen()
    {
        var (a, b) = (StoreFixture.NewKey(), StoreFixture.NewKey());
        var (store, floors) = await OpenAsync();
        await using (store)
        {
            await floors.RaiseReplayFloorsAsync([new(a, Floor(5)), new(b, Floor(9))]);
            await floors.RaiseReplayFloorsAsync([new(a, Floor(7)), new(b, Floor(3))]);
        }

        var (reopened, reopenedFloors) = await OpenAsync();
        await using var _ = reopened;
        var stored = await reopenedFloors.ListReplayFloorsAsync();

        Assert.Equal(2, stored.Count);
        Assert.Equal(Floor(7), stored[a]);
        Assert.Equal(Floor(9), stored[b]);
    }

    [Fact]
    public async Task RaiseReplayFloors_SameKeyTwiceInOneBatch_GreaterKept()
    {
        var (store, floors) = await OpenAsync();
        await using var _ = store;
        var key = StoreFixture.NewKey();

        await floors.RaiseReplayFloorsAsync([new(key, Floor(8)), new(key, Floor(4))]);

        Assert.Equal(Floor(8), (await floors.ListReplayFloorsAsync())[key]);
    }

    [Fact]
    public async Task RaiseReplayFloors_PeerRemoved_FloorStays()
    {
        var (store, floors) = await OpenAsync();
        await using var _ = store;
        var key = StoreFixture.NewKey();
        var peer = await store.AddPeerAsync(new NewPeer { Name = "alice", PublicKey = key }, StoreFixture.Pool);
        await floors.RaiseReplayFloorsAsync([new(key, Floor(1))]);

        Assert.True(await store.RemovePeerAsync(peer.Id));

        Assert.Equal(Floor(1), (await floors.ListReplayFloorsAsync())[key]);
    }

    [Fact]
    public async Task RaiseReplayFloors_NotTwelveBytes_RefusedAndNothingWritten()
    {
        var (store, floors) = await OpenAsync();
        await using var _ = store;

        await Assert.ThrowsAsync<ArgumentException>(() =>
            floors.RaiseReplayFloorsAsync([new(StoreFixture.NewKey(), Floor(1)), new(StoreFixture.NewKey(), new byte[11])]));

        Assert.Empty(await floors.ListReplayFloorsAsync());
    }
}
