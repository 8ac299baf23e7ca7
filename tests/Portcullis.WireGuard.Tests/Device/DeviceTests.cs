using Microsoft.Extensions.Time.Testing;
using Portcullis.WireGuard.Device;
using Portcullis.WireGuard.Messages;
using Portcullis.WireGuard.Tests.Doubles;

namespace Portcullis.WireGuard.Tests.Device;

public sealed class DeviceTests
{
    [Fact]
    public void Send_FirstPacket_HandshakesAndDeliversBothWays()
    {
        using var pair = new DevicePair();
        var received = pair.SendAToB("ping");
        Assert.NotNull(received);
        Assert.Equal(TestPackets.Ipv4Udp("10.0.0.1", "10.0.0.2", "ping"u8), received);
        var back = pair.SendBToA("pong");
        Assert.Equal(TestPackets.Ipv4Udp("10.0.0.2", "10.0.0.1", "pong"u8), back);
        Assert.Equal(1, pair.CountSent(DevicePair.EndpointA, MessageType.Initiation));
        Assert.Equal(1, pair.CountSent(DevicePair.EndpointB, MessageType.Response));
    }

    [Fact]
    public void Send_ResponderSendsFirst_RolesReverse()
    {
        using var pair = new DevicePair();
        Assert.NotNull(pair.SendBToA());
        Assert.NotNull(pair.SendAToB());
        Assert.Equal(1, pair.CountSent(DevicePair.EndpointB, MessageType.Initiation));
        Assert.Equal(0, pair.CountSent(DevicePair.EndpointA, MessageType.Initiation));
    }

    [Fact]
    public void Send_WithPresharedKey_Works()
    {
        using var pair = new DevicePair(withPresharedKey: true);
        Assert.NotNull(pair.SendAToB());
        Assert.NotNull(pair.SendBToA());
    }

    [Fact]
    public void Send_Ipv6InnerPacket_Delivered()
    {
        using var pair = new DevicePair();
        var packet = TestPackets.Ipv6Udp("fd00::1", "fd00::2", "six"u8);
        pair.TunA.Inject(packet);
        Assert.Equal(packet, pair.TunB.Receive(DevicePair.Wait));
    }

    [Fact]
    public void Send_PaddingIsStrippedAtTheOtherEnd()
    {
        using var pair = new DevicePair();
        // 28 + 5 = 33 bytes: padded to 48 on the wire, 33 again inside.
        var received = pair.SendAToB("12345");
        Assert.Equal(33, received!.Length);
        var transport = pair.Network.Sent.Last(s => s.From == DevicePair.EndpointA && s.Data[0] == MessageType.Transport);
        Assert.Equal(0, (transport.Data.Length - 32) % 16);
    }

    [Fact]
    public void Receive_ReplayedPacket_DroppedAndCounted()
    {
        using var pair = new DevicePair();
        Assert.NotNull(pair.SendAToB("once"));
        var transport = pair.Network.Sent.Last(s => s.From == DevicePair.EndpointA && s.Data[0] == MessageType.Transport);
        pair.Network.Deliver(transport.From, transport.To, transport.Data);
        Assert.True(DevicePair.Eventually(() => pair.B.Counters.Replayed == 1));
        Assert.Null(pair.TunB.Receive(TimeSpan.FromMilliseconds(300)));
    }

    [Fact]
    public void Receive_InnerSourceOutsideAllowedIps_Dropped()
    {
        using var pair = new DevicePair();
        Assert.NotNull(pair.SendAToB());
        // A may send to B, but B only accepts 10.0.0.1 from A: a spoofed inner source must not come out.
        pair.TunA.Inject(TestPackets.Ipv4Udp("10.9.9.9", "10.0.0.2", "spoof"u8));
        Assert.True(DevicePair.Eventually(() => pair.B.Counters.DisallowedSource == 1));
        Assert.Null(pair.TunB.Receive(TimeSpan.FromMilliseconds(300)));
    }

    [Fact]
    public void Send_NoRoute_CountedNotSent()
    {
        using var pair = new DevicePair();
        pair.TunA.Inject(TestPackets.Ipv4Udp("10.0.0.1", "10.7.7.7", "nowhere"u8));
        Assert.True(DevicePair.Eventually(() => pair.A.Counters.NoRoute == 1));
        Assert.Empty(pair.Network.Sent);
    }

    [Fact]
    public void Receive_TamperedTransport_FailsAuthentication()
    {
        using var pair = new DevicePair();
        Assert.NotNull(pair.SendAToB());
        pair.Network.Filter = (from, to, data) =>
        {
            if (data[0] == MessageType.Transport && data.Length > 40)
                data[^1] ^= 1;
            return true;
        };
        pair.TunA.Inject(TestPackets.Ipv4Udp("10.0.0.1", "10.0.0.2", "tampered"u8));
        Assert.True(DevicePair.Eventually(() => pair.B.Counters.AuthenticationFailed == 1));
        Assert.Null(pair.TunB.Receive(TimeSpan.FromMilliseconds(300)));
    }

    [Fact]
    public void Receive_GarbageDatagrams_CountedAndDeviceKeepsServing()
    {
        using var pair = new DevicePair();
        var attacker = Portcullis.Core.Io.UdpEndpoint.FromIPv4([198, 51, 100, 7], 1234);
        var random = new Random(7);
        for (var i = 0; i < 200; i++)
        {
            var junk = new byte[random.Next(0, 300)];
            random.NextBytes(junk);
            pair.Network.Deliver(attacker, DevicePair.EndpointB, junk);
        }
        // Well-typed but hostile: wrong sizes, unknown index, a bad MAC1.
        pair.Network.Deliver(attacker, DevicePair.EndpointB, [1, 0, 0, 0, 9]);
        var unknownIndex = new byte[64];
        unknownIndex[0] = MessageType.Transport;
        pair.Network.Deliver(attacker, DevicePair.EndpointB, unknownIndex);
        var before = pair.B.Counters.Malformed;
        var oversized = new byte[MessageType.InitiationSize + 1];
        oversized[0] = MessageType.Initiation;
        pair.Network.Deliver(attacker, DevicePair.EndpointB, oversized);
        var truncatedResponse = new byte[MessageType.ResponseSize - 1];
        truncatedResponse[0] = MessageType.Response;
        pair.Network.Deliver(attacker, DevicePair.EndpointB, truncatedResponse);
        var badInitiation = new byte[MessageType.InitiationSize];
        badInitiation[0] = MessageType.Initiation;
        pair.Network.Deliver(attacker, DevicePair.EndpointB, badInitiation);

        Assert.True(DevicePair.Eventually(() => pair.B.Counters.UnknownIndex >= 1 && pair.B.Counters.BadMac >= 1));
        Assert.True(DevicePair.Eventually(() => pair.B.Counters.Malformed >= before + 2));
        Assert.NotNull(pair.SendAToB("still here"));
        Assert.NotNull(pair.SendBToA("and here"));
    }

    [Fact]
    public void Uapi_GetState_ReportsHandshakeAndCounters()
    {
        using var pair = new DevicePair();
        Assert.NotNull(pair.SendAToB());
        Assert.NotNull(pair.SendBToA());
        var state = pair.A.GetState();
        Assert.Equal(DevicePair.EndpointA.Port, state.ListenPort);
        var peer = Assert.Single(state.Peers);
        Assert.Equal(pair.PublicB, peer.PublicKey);
        Assert.NotNull(peer.LastHandshake);
        Assert.True(peer.TxBytes > 0);
        Assert.True(DevicePair.Eventually(() => pair.A.GetState().Peers[0].RxBytes > 0));
        Assert.Equal(2, peer.AllowedIps.Count);
    }

    [Fact]
    public void Uapi_RemovePeer_StopsTrafficAndEndsSession()
    {
        using var pair = new DevicePair();
        var ended = new List<PeerSessionEvent>();
        pair.B.SessionEnded += e => { lock (ended) ended.Add(e); };
        Assert.NotNull(pair.SendAToB());
        pair.B.Apply(new WireGuard.Uapi.UapiSetRequest { Peers = [new WireGuard.Uapi.UapiPeerChange { PublicKey = pair.PublicA, Remove = true }] });
        Assert.Null(pair.SendAToB("after removal"));
        lock (ended)
        {
            var e = Assert.Single(ended);
            Assert.Equal(pair.PublicA, e.PublicKey);
            Assert.Equal(SessionEndReason.Removed, e.EndReason);
        }
    }

    [Fact]
    public void SessionEvents_EstablishedOnceThenEndedWhenIdle()
    {
        var time = new FakeTimeProvider();
        using var pair = new DevicePair(time, options: new DeviceOptions { SessionTimeout = TimeSpan.FromSeconds(30) });
        var established = 0;
        var ended = new List<PeerSessionEvent>();
        pair.B.SessionEstablished += e => Interlocked.Increment(ref established);
        pair.B.SessionEnded += e => { lock (ended) ended.Add(e); };
        Assert.NotNull(pair.SendAToB());
        Assert.NotNull(pair.SendAToB("second"));
        Assert.True(DevicePair.Eventually(() => Volatile.Read(ref established) == 1));
        // As on a real clock, B's keepalive (10 s) reaches A before A's "no answer, new handshake" timer (15 s) fires:
        // one jump of 31 s would fire both before the keepalive is delivered, and A would start a second session.
        var receivedByA = pair.A.Counters.ReceivedBytes;
        time.Advance(TimeSpan.FromSeconds(11));
        Assert.True(DevicePair.Eventually(() => pair.A.Counters.ReceivedBytes > receivedByA), "B's keepalive did not reach A");
        time.Advance(TimeSpan.FromSeconds(20));
        Assert.True(DevicePair.Eventually(() => { lock (ended) return ended.Count == 1; }));
        lock (ended)
            Assert.Equal(SessionEndReason.Idle, ended[0].EndReason);
        Assert.Equal(1, Volatile.Read(ref established));
    }
}
