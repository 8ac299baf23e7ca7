using Microsoft.Extensions.Time.Testing;
using Portcullis.WireGuard.Messages;

namespace Portcullis.WireGuard.Tests.Device;

/// <summary>The timer state machine on virtual time: nothing here sleeps for protocol time.</summary>
public sealed class DeviceTimerTests
{
    [Fact]
    public void Rekey_After120Seconds_InitiatorStartsNewHandshakeAndTrafficContinues()
    {
        var time = new FakeTimeProvider();
        using var pair = new DevicePair(time);
        Assert.NotNull(pair.SendAToB());
        Assert.NotNull(pair.SendBToA());
        Assert.Equal(1, pair.CountSent(DevicePair.EndpointA, MessageType.Initiation));

        pair.Advance(TimeSpan.FromSeconds(121));
        Assert.NotNull(pair.SendAToB("after rekey time"));
        Assert.True(DevicePair.Eventually(() => pair.CountSent(DevicePair.EndpointA, MessageType.Initiation) == 2));
        Assert.True(DevicePair.Eventually(() => pair.CountSent(DevicePair.EndpointB, MessageType.Response) == 2));
        // The new session carries traffic both ways.
        Assert.NotNull(pair.SendAToB("on new keys"));
        Assert.NotNull(pair.SendBToA("on new keys too"));
    }

    [Fact]
    public void Rekey_ResponderDoesNotRekeyOnTime()
    {
        var time = new FakeTimeProvider();
        using var pair = new DevicePair(time);
        Assert.NotNull(pair.SendAToB());
        Assert.NotNull(pair.SendBToA());
        pair.Advance(TimeSpan.FromSeconds(121));
        Assert.NotNull(pair.SendBToA("responder after 121 s"));
        Thread.Sleep(200);
        Assert.Equal(0, pair.CountSent(DevicePair.EndpointB, MessageType.Initiation));
    }

    [Fact]
    public void KeyMaterial_After540SecondsWithoutHandshake_IsZeroed()
    {
        var time = new FakeTimeProvider();
        using var pair = new DevicePair(time);
        Assert.NotNull(pair.SendAToB());
        var peer = Assert.Single(pair.A.Peers);
        Assert.NotNull(peer.Keypairs.Current);
        // The peer vanishes: no handshake can succeed any more, so nothing renews the keys.
        pair.Network.Filter = (from, to, data) => false;

        pair.Advance(TimeSpan.FromSeconds(535), TimeSpan.FromSeconds(5));
        Assert.NotNull(peer.Keypairs.Current);
        pair.Advance(TimeSpan.FromSeconds(6));
        Assert.True(DevicePair.Eventually(() => peer.Keypairs.Current is null));
        Assert.Equal(WireGuard.Noise.HandshakeState.Zeroed, peer.Handshake.State);
        Assert.Equal(0, pair.A.Indices.Count);
        // The ciphers themselves are disposed (keys wiped) by the graveyard sweep once the real-time grace period is over.
        Assert.True(DevicePair.Eventually(() =>
        {
            time.Advance(TimeSpan.FromSeconds(2));
            return pair.A.RetiredKeypairsAwaitingZeroing == 0;
        }, TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void Handshake_NoResponse_RetransmittedEveryRekeyTimeout()
    {
        var time = new FakeTimeProvider();
        using var pair = new DevicePair(time);
        pair.Network.Filter = (from, to, data) => false; // the network eats everything
        pair.TunA.Inject(Doubles.TestPackets.Ipv4Udp("10.0.0.1", "10.0.0.2", "lost"u8));
        Assert.True(DevicePair.Eventually(() => pair.CountSent(DevicePair.EndpointA, MessageType.Initiation) == 1));
        // Virtual time moves in small steps until the next retransmission is out, never in one jump: the retransmit
        // timer is armed by the send, on the device's own thread, and a jump made before it was armed would be lost.
        for (var sent = 2; sent <= 4; sent++)
        {
            var expected = sent;
            Assert.True(DevicePair.Eventually(() =>
            {
                if (pair.CountSent(DevicePair.EndpointA, MessageType.Initiation) >= expected)
                    return true;
                time.Advance(TimeSpan.FromMilliseconds(250));
                return false;
            }), $"retransmission {expected - 1} not sent");
        }
        Assert.Equal(4, pair.CountSent(DevicePair.EndpointA, MessageType.Initiation));
    }

    [Fact]
    public void Keepalive_AfterDataReceivedAndNothingSentBack_SentAfter10Seconds()
    {
        var time = new FakeTimeProvider();
        using var pair = new DevicePair(time);
        Assert.NotNull(pair.SendAToB());
        var before = pair.Network.Sent.Count(s => s.From == DevicePair.EndpointB && s.Data[0] == MessageType.Transport && s.Data.Length == 32);
        time.Advance(TimeSpan.FromSeconds(11));
        Assert.True(DevicePair.Eventually(() =>
            pair.Network.Sent.Count(s => s.From == DevicePair.EndpointB && s.Data[0] == MessageType.Transport && s.Data.Length == 32) > before));
    }

    [Fact]
    public void CookiePath_UnderLoad_InitiatorGetsCookieThenCompletesWithMac2()
    {
        var time = new FakeTimeProvider();
        using var pair = new DevicePair(time);
        pair.B.AssumeUnderLoad(TimeSpan.FromMinutes(5));
        pair.TunA.Inject(Doubles.TestPackets.Ipv4Udp("10.0.0.1", "10.0.0.2", "under load"u8));
        Assert.True(DevicePair.Eventually(() => pair.B.Counters.CookieRepliesSent == 1));
        Assert.Equal(0, pair.CountSent(DevicePair.EndpointB, MessageType.Response));
        // The retransmission carries MAC2 from the cookie and is answered.
        time.Advance(TimeSpan.FromMilliseconds(5400));
        Assert.True(DevicePair.Eventually(() => pair.CountSent(DevicePair.EndpointB, MessageType.Response) == 1),
            $"B: badMac={pair.B.Counters.BadMac} rateLimited={pair.B.Counters.RateLimited} rejected={pair.B.Counters.HandshakeRejected} cookies={pair.B.Counters.CookieRepliesSent}; A initiations={pair.CountSent(DevicePair.EndpointA, MessageType.Initiation)} A badMac={pair.A.Counters.BadMac}");
        Assert.NotNull(pair.TunB.Receive(DevicePair.Wait));
        Assert.Equal(1, pair.B.Counters.CookieRepliesSent);
    }

    [Fact]
    public void UnderLoad_EnteredAndLeft_LogsOncePerTransition()
    {
        var time = new FakeTimeProvider();
        using var pair = new DevicePair(time);
        pair.B.AssumeUnderLoad(TimeSpan.FromSeconds(1));
        pair.TunA.Inject(Doubles.TestPackets.Ipv4Udp("10.0.0.1", "10.0.0.2", "under load"u8));
        Assert.True(DevicePair.Eventually(() => pair.B.Counters.CookieRepliesSent == 1));
        Assert.Single(pair.LogB.Text, l => l.StartsWith("1008 ", StringComparison.Ordinal));
        Assert.DoesNotContain(pair.LogB.Text, l => l.StartsWith("1012 ", StringComparison.Ordinal));

        // The retransmission comes after the load has passed: answered on MAC1 alone, and the end of load is said once.
        time.Advance(TimeSpan.FromMilliseconds(5400));
        Assert.True(DevicePair.Eventually(() => pair.CountSent(DevicePair.EndpointB, MessageType.Response) == 1));
        Assert.Single(pair.LogB.Text, l => l.StartsWith("1012 ", StringComparison.Ordinal));
        Assert.Single(pair.LogB.Text, l => l.StartsWith("1008 ", StringComparison.Ordinal));
    }
}
