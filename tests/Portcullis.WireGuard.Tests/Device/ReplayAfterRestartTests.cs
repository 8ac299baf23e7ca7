using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Portcullis.Core.Io;
using Portcullis.WireGuard.Device;
using Portcullis.WireGuard.Tests.Doubles;
using Portcullis.WireGuard.Uapi;

namespace Portcullis.WireGuard.Tests.Device;

/// <summary>
/// A device restarted with the replay floors its host kept (<see cref="WireGuardDevice.SnapshotPeers"/> before,
/// <see cref="WireGuardDevice.RaiseReplayFloor"/> after) refuses an initiation captured before the restart; without
/// them it would answer the replay and move the peer's endpoint.
/// </summary>
public sealed class ReplayAfterRestartTests
{
    private static readonly UdpEndpoint Attacker = UdpEndpoint.FromIPv4([192, 0, 2, 66], 4444);

    [Fact]
    public void Replay_AfterRestartWithKeptFloor_RejectedAndEndpointUnknown()
    {
        using var pair = new DevicePair();
        var (initiation, floor) = HandshakeAndStop(pair);
        Assert.Contains(floor, r => r.ReplayFloor.AsSpan().ContainsAnyExcept((byte)0));

        using var restarted = Restart(pair);
        foreach (var record in floor)
            restarted.RaiseReplayFloor(record.PublicKey, record.ReplayFloor);
        restarted.Up();
        pair.Network.Deliver(Attacker, DevicePair.EndpointB, initiation);

        Assert.True(DevicePair.Eventually(() => restarted.Counters.HandshakeRejected == 1), "the replay was not rejected");
        Assert.DoesNotContain(pair.Network.Sent, s => s.To.Equals(Attacker));
        Assert.Null(Assert.Single(restarted.Peers).Endpoint);
    }

    [Fact]
    public void Replay_AfterRestartWithoutFloor_Answered()
    {
        // What the kept floor prevents: a device that forgot it takes the old initiation and answers the attacker.
        using var pair = new DevicePair();
        var (initiation, _) = HandshakeAndStop(pair);

        using var restarted = Restart(pair);
        restarted.Up();
        pair.Network.Deliver(Attacker, DevicePair.EndpointB, initiation);

        Assert.True(DevicePair.Eventually(() => pair.Network.Sent.Any(s => s.To.Equals(Attacker))), "the replay was not answered");
        Assert.Equal(Attacker, Assert.Single(restarted.Peers).Endpoint);
    }

    [Fact]
    public void SnapshotPeers_RemovedKey_KeepsItsFloorWithoutEndpoint()
    {
        using var pair = new DevicePair();
        Assert.NotNull(pair.SendAToB());
        pair.B.Apply(new UapiSetRequest { Peers = [new UapiPeerChange { PublicKey = pair.PublicA, Remove = true }] });

        var record = Assert.Single(pair.B.SnapshotPeers());

        Assert.Equal(pair.PublicA, record.PublicKey);
        Assert.Null(record.Endpoint);
        Assert.True(record.ReplayFloor.AsSpan().ContainsAnyExcept((byte)0));
    }

    /// <summary>A handshakes with B; B's snapshot is taken and B stops. Returns A's initiation and the snapshot.</summary>
    private static (byte[] Initiation, IReadOnlyList<PeerRecord> Floor) HandshakeAndStop(DevicePair pair)
    {
        Assert.NotNull(pair.SendAToB());
        var initiation = pair.Network.Sent.First(s => s.From.Equals(DevicePair.EndpointA) && s.Data.Length == 148 && s.Data[0] == 1).Data;
        var snapshot = pair.B.SnapshotPeers();
        pair.B.Dispose();
        return (initiation, snapshot);
    }

    /// <summary>B again, at the same address, with the same key and peer: a restarted process.</summary>
    private static WireGuardDevice Restart(DevicePair pair)
    {
        var device = new WireGuardDevice(new InMemoryTun("wgb2"), pair.Network.Factory([192, 0, 2, 2]), NullLogger.Instance);
        device.Apply(new UapiSetRequest
        {
            PrivateKey = (byte[])pair.PrivateB.Clone(),
            ListenPort = DevicePair.EndpointB.Port,
            Peers = [new UapiPeerChange { PublicKey = pair.PublicA, AddedAllowedIps = [IPNetwork.Parse("10.0.0.1/32")] }],
        });
        return device;
    }
}
