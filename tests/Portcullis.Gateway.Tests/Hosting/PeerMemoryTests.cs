using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Portcullis.Core.Io;
using Portcullis.Gateway.Hosting;
using Portcullis.Gateway.Tests.Store;
using Portcullis.WireGuard.Crypto;
using Portcullis.WireGuard.Device;
using Portcullis.WireGuard.Uapi;

namespace Portcullis.Gateway.Tests.Hosting;

/// <summary>
/// What the gateway keeps of its peers between runs, with a real device (never brought up: the memory needs only its
/// control plane) and a real store: floors go to the store and back into the next run's device; endpoints go to the
/// file while it runs, and the file goes with a clean stop.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class PeerMemoryTests : IDisposable
{
    private static readonly UdpEndpoint Home = UdpEndpoint.FromIPEndPoint(IPEndPoint.Parse("203.0.113.21:51820"));
    private static readonly byte[] Floor = [0x40, 0, 0, 0, 0x69, 0x5f, 0, 0, 0, 0, 0, 7];
    private readonly StoreFixture _files = new();
    private readonly byte[] _peer = new byte[32];

    public PeerMemoryTests() => new OpenSslCrypto().GeneratePrivateKey(_peer);

    public void Dispose() => _files.Dispose();

    private string EndpointPath => Path.Combine(_files.Directory, "run", "pc0.endpoints");

    [Fact]
    public async Task Keep_ThenNextRun_FloorRestoredIntoTheDeviceAndEndpointInTheFile()
    {
        using (var device = Device())
        {
            device.RaiseReplayFloor(_peer, Floor); // as an accepted initiation would
            await using var store = await _files.OpenAsync();
            await using var memory = new PeerMemory(device, store, EndpointPath, new FakeTimeProvider(), NullLogger.Instance);

            await memory.KeepAsync(CancellationToken.None);

            Assert.Equal(Floor, (await store.ListReplayFloorsAsync())[Convert.ToBase64String(_peer)]);
            Assert.Equal(Home, EndpointFile.Read(EndpointPath, out _)[Convert.ToBase64String(_peer)]);
            // Never restored: a run that took nothing over from the file leaves it for the next one.
        }
        Assert.True(File.Exists(EndpointPath));

        using var next = Device(withEndpoint: false);
        await using (var store = await _files.OpenAsync())
        {
            await using var memory = new PeerMemory(next, store, EndpointPath, new FakeTimeProvider(), NullLogger.Instance);
            await memory.RestoreFloorsAsync(CancellationToken.None);
            Assert.Equal(Floor, Assert.Single(next.SnapshotPeers()).ReplayFloor);

            memory.RestoreEndpoints(); // the device is down, so no handshake goes out; the endpoint is set
            Assert.Equal(Home, Assert.Single(next.SnapshotPeers()).Endpoint);
        }
        Assert.False(File.Exists(EndpointPath), "a clean stop keeps no record of where peers were");
    }

    [Fact]
    public async Task RestoreEndpoints_KeyNoLongerAPeer_NotAdded()
    {
        EndpointFile.Write(EndpointPath, new Dictionary<string, UdpEndpoint> { [Convert.ToBase64String(_peer)] = Home });
        using var device = Device(withPeer: false);
        await using var memory = new PeerMemory(device, null, EndpointPath, new FakeTimeProvider(), NullLogger.Instance);

        Assert.Equal(0, memory.RestoreEndpoints());

        Assert.Empty(device.Peers);
    }

    [Fact]
    public async Task Keep_NothingChanged_FileNotRewritten()
    {
        using var device = Device();
        await using var memory = new PeerMemory(device, null, EndpointPath, new FakeTimeProvider(), NullLogger.Instance);
        await memory.KeepAsync(CancellationToken.None);
        var written = File.GetLastWriteTimeUtc(EndpointPath);
        File.SetLastWriteTimeUtc(EndpointPath, written.AddHours(-1));

        await memory.KeepAsync(CancellationToken.None);

        Assert.Equal(written.AddHours(-1), File.GetLastWriteTimeUtc(EndpointPath));
    }

    private WireGuardDevice Device(bool withPeer = true, bool withEndpoint = true)
    {
        var device = new WireGuardDevice(new IdleTun(), new NoBind(), NullLogger.Instance, time: new FakeTimeProvider());
        var key = new byte[32];
        new OpenSslCrypto().GeneratePrivateKey(key);
        device.Apply(new UapiSetRequest
        {
            PrivateKey = key,
            Peers = withPeer
                ? [new UapiPeerChange { PublicKey = (byte[])_peer.Clone(), Endpoint = withEndpoint ? Home : null, AddedAllowedIps = [IPNetwork.Parse("10.99.0.2/32")] }]
                : [],
        });
        return device;
    }

    internal sealed class IdleTun : ITun
    {
        public string Name => "pc0";
        public int Mtu => 1420;
        public int Read(Span<ArraySegment<byte>> packets) => 0;
        public int Write(ReadOnlySpan<ArraySegment<byte>> packets) => packets.Length;
        public void Dispose() { }
    }

    internal sealed class NoBind : IBindFactory
    {
        public IBind Open(ushort port, uint mark) => throw new NotSupportedException("the device is never brought up here");
    }
}
