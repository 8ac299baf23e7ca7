using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Portcullis.Core.Io;
using Portcullis.WireGuard.Crypto;
using Portcullis.WireGuard.Device;
using Portcullis.WireGuard.Tests.Doubles;
using Portcullis.WireGuard.Uapi;

namespace Portcullis.WireGuard.Tests.Device;

/// <summary>
/// The packet path must not allocate per packet. Two real devices exchange packets through allocation-free doubles;
/// after warm-up, the whole process may allocate far less than one object per packet (timers, logging and the
/// runtime allocate a little on their own). The count is process-wide, so this runs alone, never beside other tests.
/// </summary>
[Collection(AllocationCollection.Name)]
public sealed class DeviceAllocationTests
{
    [Fact]
    public void Pipeline_SteadyState_AllocatesNoObjectPerPacket()
    {
        var crypto = new OpenSslCrypto();
        var privateA = new byte[32];
        var privateB = new byte[32];
        var publicA = new byte[32];
        var publicB = new byte[32];
        crypto.GeneratePrivateKey(privateA);
        crypto.GeneratePrivateKey(privateB);
        crypto.DerivePublicKey(privateA, publicA);
        crypto.DerivePublicKey(privateB, publicB);
        var bindA = new RingBind(UdpEndpoint.FromIPv4([192, 0, 2, 1], 1));
        var bindB = new RingBind(UdpEndpoint.FromIPv4([192, 0, 2, 2], 2));
        bindA.Peer = bindB;
        bindB.Peer = bindA;
        var tunA = new ReplayingTun("alla", TestPackets.Ipv4Udp("10.0.0.1", "10.0.0.2", new byte[1300]));
        var tunB = new ReplayingTun("allb", TestPackets.Ipv4Udp("10.0.0.2", "10.0.0.1", new byte[10]));
        using var a = new WireGuardDevice(tunA, bindA, NullLogger.Instance, crypto: crypto);
        using var b = new WireGuardDevice(tunB, bindB, NullLogger.Instance, crypto: crypto);
        a.Apply(new UapiSetRequest
        {
            PrivateKey = privateA,
            Peers = [new UapiPeerChange { PublicKey = publicB, Endpoint = bindB.Local, AddedAllowedIps = [IPNetwork.Parse("10.0.0.2/32")] }],
        });
        b.Apply(new UapiSetRequest
        {
            PrivateKey = privateB,
            Peers = [new UapiPeerChange { PublicKey = publicA, Endpoint = bindA.Local, AddedAllowedIps = [IPNetwork.Parse("10.0.0.1/32")] }],
        });
        a.Up();
        b.Up();

        // The first packet waits for the handshake (only 128 are staged meanwhile); then warm up the steady state.
        tunA.Produce(1);
        Assert.True(DevicePair.Eventually(() => tunB.Written == 1, TimeSpan.FromSeconds(10)));
        tunA.Produce(5_000);
        Assert.True(DevicePair.Eventually(() => tunB.Written >= 4_500, TimeSpan.FromSeconds(20)), $"warm-up delivered {tunB.Written}");
        Thread.Sleep(500);
        var delivered = tunB.Written;
        const int Packets = 50_000;

        var before = GC.GetTotalAllocatedBytes(precise: true);
        tunA.Produce(Packets);
        Assert.True(DevicePair.Eventually(() => tunB.Written >= delivered + Packets * 9 / 10, TimeSpan.FromSeconds(60)),
            $"delivered {tunB.Written - delivered} of {Packets}");
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        // The smallest object is 24 bytes: anything allocated per packet lands far above 8 bytes a packet, while the
        // runtime's own stray allocations (timers, thread pool) stay far below.
        Assert.True(allocated < Packets * 8L, $"{allocated} bytes allocated for {Packets} packets");
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AllocationCollection
{
    public const string Name = "Allocation measurements (alone)";
}
