using System.Net;
using System.Runtime.Versioning;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Portcullis.Gateway.Hosting;
using Portcullis.Gateway.Tests.Hosting;
using Portcullis.Gateway.Tests.Store;
using Portcullis.Gateway.Tests.Store.Postgres;
using Portcullis.WireGuard.Crypto;
using Portcullis.WireGuard.Device;
using Portcullis.WireGuard.Uapi;

namespace Portcullis.Gateway.Tests.Fleet;

/// <summary>
/// Replay floors in a fleet, with real devices and the real PostgreSQL store: a peer that handshook on two gateways
/// leaves the later floor in the store whichever gateway writes last, and a gateway starting next gets that floor.
/// </summary>
[Collection(PostgresCollection.Name)]
[SupportedOSPlatform("linux")]
public sealed class FleetReplayFloorTests(PostgresCluster cluster) : IDisposable
{
    private static readonly byte[] Earlier = [0x40, 0, 0, 0, 0x69, 0x5f, 0, 0, 0, 0, 0, 3];
    private static readonly byte[] Later = [0x40, 0, 0, 0, 0x69, 0x5f, 0, 0, 0, 0, 0, 9];
    private readonly PostgresTarget _database = new(cluster);
    private readonly byte[] _peer = new byte[32];

    public void Dispose() => _database.Dispose();

    [Fact]
    public async Task PeerMovedBetweenGateways_TheLaterFloorStays_AndTheNextGatewayStartsWithIt()
    {
        new OpenSslCrypto().GeneratePrivateKey(_peer);
        await using var a = await _database.OpenPostgresAsync("a");
        await using var b = await _database.OpenPostgresAsync("b");
        using var onA = Device();
        using var onB = Device();
        onA.RaiseReplayFloor(_peer, Later);   // its latest handshake was on A...
        onB.RaiseReplayFloor(_peer, Earlier); // ...after an older one on B, which B keeps last
        await using (var memoryA = new PeerMemory(onA, a, null, new FakeTimeProvider(), NullLogger.Instance))
            await memoryA.KeepAsync(CancellationToken.None);
        await using (var memoryB = new PeerMemory(onB, b, null, new FakeTimeProvider(), NullLogger.Instance))
            await memoryB.KeepAsync(CancellationToken.None);

        await using var c = await _database.OpenPostgresAsync("c");
        using var onC = Device();
        await using var memoryC = new PeerMemory(onC, c, null, new FakeTimeProvider(), NullLogger.Instance);
        await memoryC.RestoreFloorsAsync(CancellationToken.None);

        Assert.Equal(Later, (await c.ListReplayFloorsAsync())[Convert.ToBase64String(_peer)]);
        Assert.Equal(Later, Assert.Single(onC.SnapshotPeers()).ReplayFloor);
    }

    private WireGuardDevice Device()
    {
        var device = new WireGuardDevice(new PeerMemoryTests.IdleTun(), new PeerMemoryTests.NoBind(), NullLogger.Instance, time: new FakeTimeProvider());
        var key = new byte[32];
        new OpenSslCrypto().GeneratePrivateKey(key);
        device.Apply(new UapiSetRequest
        {
            PrivateKey = key,
            Peers = [new UapiPeerChange { PublicKey = (byte[])_peer.Clone(), AddedAllowedIps = [IPNetwork.Parse("10.99.0.2/32")] }],
        });
        return device;
    }
}
