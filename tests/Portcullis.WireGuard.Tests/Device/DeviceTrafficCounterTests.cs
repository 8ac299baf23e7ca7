using Portcullis.WireGuard.Device;
using Portcullis.WireGuard.Messages;
using Portcullis.WireGuard.Tests.Doubles;

namespace Portcullis.WireGuard.Tests.Device;

/// <summary>The whole-device counters the gateway's /metrics reads: traffic per direction and handshakes by role and result.</summary>
public sealed class DeviceTrafficCounterTests
{
    [Fact]
    public void Exchange_OnePacketEachWay_HandshakeRolesAndTransportTrafficCounted()
    {
        using var pair = new DevicePair();

        Assert.NotNull(pair.SendAToB("ping"));
        Assert.NotNull(pair.SendBToA("pong"));

        Assert.True(DevicePair.Eventually(() => pair.A.Counters.Handshakes(HandshakeRole.Initiator, HandshakeResult.Completed) == 1));
        Assert.Equal(1, pair.A.Counters.Handshakes(HandshakeRole.Initiator, HandshakeResult.Sent));
        Assert.Equal(0, pair.A.Counters.Handshakes(HandshakeRole.Responder, HandshakeResult.Completed));
        Assert.Equal(1, pair.B.Counters.Handshakes(HandshakeRole.Responder, HandshakeResult.Completed));
        Assert.Equal(0, pair.B.Counters.Handshakes(HandshakeRole.Initiator, HandshakeResult.Sent));
        // What A sent as transport messages is what B received, byte for byte and message for message (the counters
        // are added just after each send and receive, so they are awaited, not read at once).
        var sentByA = pair.Network.Sent.Where(s => s.From == DevicePair.EndpointA && s.Data[0] == MessageType.Transport).ToList();
        Assert.NotEmpty(sentByA);
        var bytes = sentByA.Sum(s => (long)s.Data.Length);
        Assert.True(DevicePair.Eventually(() => pair.A.Counters.SentPackets == sentByA.Count && pair.A.Counters.SentBytes == bytes
            && pair.B.Counters.ReceivedPackets == sentByA.Count && pair.B.Counters.ReceivedBytes == bytes),
            $"A sent {pair.A.Counters.SentPackets} ({pair.A.Counters.SentBytes} B), B received {pair.B.Counters.ReceivedPackets} ({pair.B.Counters.ReceivedBytes} B); the wire saw {sentByA.Count} ({bytes} B)");
    }
}
