namespace Portcullis.Gateway.Tests.Store;

/// <summary>Replay floors are kept per key, only ever rise, outlive their peer and a reopen.</summary>
public sealed class SqliteReplayFloorTests : IDisposable
{
    private readonly StoreFixture _files = new();

    public void Dispose() => _files.Dispose();

    private static byte[] Floor(byte last) => [0x40, 0, 0, 0, 0x69, 0, 0, 0, 0, 0, 0, last];

    [Fact]
    public async Task RaiseReplayFloors_HigherReplacesLowerNeverDoes_KeptAcrossReopen()
    {
        var (a, b) = (StoreFixture.NewKey(), StoreFixture.NewKey());
        await using (var store = await _files.OpenAsync())
        {
            await store.RaiseReplayFloorsAsync([new(a, Floor(5)), new(b, Floor(9))]);
            await store.RaiseReplayFloorsAsync([new(a, Floor(7)), new(b, Floor(3))]);
        }

        await using var reopened = await _files.OpenAsync();
        var floors = await reopened.ListReplayFloorsAsync();

        Assert.Equal(2, floors.Count);
        Assert.Equal(Floor(7), floors[a]);
        Assert.Equal(Floor(9), floors[b]);
    }

    [Fact]
    public async Task RaiseReplayFloors_PeerRemoved_FloorStays()
    {
        await using var store = await _files.OpenAsync();
        var key = StoreFixture.NewKey();
        var peer = await store.AddPeerAsync(new Gateway.Store.NewPeer { Name = "alice", PublicKey = key }, StoreFixture.Pool);
        await store.RaiseReplayFloorsAsync([new(key, Floor(1))]);

        Assert.True(await store.RemovePeerAsync(peer.Id));

        Assert.Equal(Floor(1), (await store.ListReplayFloorsAsync())[key]);
    }

    [Fact]
    public async Task RaiseReplayFloors_NotTwelveBytes_RefusedAndNothingWritten()
    {
        await using var store = await _files.OpenAsync();

        await Assert.ThrowsAsync<ArgumentException>(() =>
            store.RaiseReplayFloorsAsync([new(StoreFixture.NewKey(), Floor(1)), new(StoreFixture.NewKey(), new byte[11])]));

        Assert.Empty(await store.ListReplayFloorsAsync());
    }
}
