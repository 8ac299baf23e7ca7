using Microsoft.Extensions.Time.Testing;
using Portcullis.Core.Io;
using Portcullis.WireGuard.Cookies;
using Portcullis.WireGuard.Crypto;
using Portcullis.WireGuard.Messages;

namespace Portcullis.WireGuard.Tests.Device;

/// <summary>
/// A handshake flood from many addresses against B while A connects, through the in-memory network on virtual time
/// (the lab's HandshakeFloodTests do the same with real programs).
/// </summary>
public sealed class DeviceFloodTests
{
    private const int FloodSources = 150;
    private const int SocketBuffer = 2048;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public void Flood_ManySourcesWithValidMac1_PeerCompletesInOneCookieRoundAndFloodGetsFewReplies()
    {
        var time = new FakeTimeProvider();
        using var pair = new DevicePair(time);
        var sources = Enumerable.Range(0, FloodSources)
            .Select(i => UdpEndpoint.FromIPv4([198, 51, 100, (byte)(100 + i)], 40000)).ToArray();
        var messages = sources.Select(_ => FloodInitiation(pair.PublicB)).ToArray();

        using var stop = new CancellationTokenSource();
        var flooder = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                // As a socket's receive buffer: what B has not taken yet bounds what more the flood gets in.
                if (pair.Network.Backlog(DevicePair.EndpointB) < SocketBuffer)
                {
                    for (var i = 0; i < sources.Length; i++)
                        pair.Network.Deliver(sources[i], DevicePair.EndpointB, messages[i]);
                }
                Thread.Sleep(1); // paces the flood, at most 150 messages a millisecond
            }
        })
        { IsBackground = true };
        flooder.Start();
        try
        {
            Assert.True(DevicePair.Eventually(() => pair.B.Counters.RateLimited > 0, Patience), "the flood never put B under load");
            var floodStart = time.GetElapsedTime(0);

            // A's first initiation is answered with a cookie, its retransmission (MAC2) with a response.
            pair.TunA.Inject(Doubles.TestPackets.Ipv4Udp("10.0.0.1", "10.0.0.2", "through the flood"u8));
            Assert.True(DevicePair.Eventually(() => SentBToA(pair, MessageType.CookieReply) == 1, Patience),
                $"A got no cookie reply; B: {Describe(pair)}");
            Assert.Equal(0, SentBToA(pair, MessageType.Response));
            pair.Advance(TimeSpan.FromMilliseconds(5400));
            Assert.True(DevicePair.Eventually(() => SentBToA(pair, MessageType.Response) == 1, Patience),
                $"A's retransmission was not answered; B: {Describe(pair)}");
            Assert.NotNull(pair.TunB.Receive(Patience));

            // Each flooding address got at most its burst plus 20 a second of cookie replies.
            var elapsed = (time.GetElapsedTime(0) - floodStart).TotalSeconds + 1;
            var floodReplies = pair.Network.Sent.Count(s => s.From == DevicePair.EndpointB && s.To != DevicePair.EndpointA);
            Assert.InRange(floodReplies, 1, FloodSources * (5 + (20 * elapsed)));
        }
        finally
        {
            stop.Cancel();
            flooder.Join();
        }
    }

    /// <summary>An initiation with a random body and a valid MAC1 for <paramref name="responderPublic"/>, as a flooder makes them.</summary>
    private static byte[] FloodInitiation(byte[] responderPublic)
    {
        var crypto = new OpenSslCrypto();
        var mac1Key = new byte[32];
        CookieKeys.DeriveMac1Key(crypto, responderPublic, mac1Key);
        var message = new byte[MessageType.InitiationSize];
        crypto.RandomBytes(message.AsSpan(4, 112));
        message[0] = MessageType.Initiation;
        crypto.Mac(mac1Key, MessageMacs.Mac1Covered(message), message.AsSpan(116, MessageType.MacSize));
        return message;
    }

    private static int SentBToA(DevicePair pair, byte type) =>
        pair.Network.Sent.Count(s => s.From == DevicePair.EndpointB && s.To == DevicePair.EndpointA && s.Data[0] == type);

    private static string Describe(DevicePair pair) =>
        $"A sent {pair.CountSent(DevicePair.EndpointA, MessageType.Initiation)} initiations, got {SentBToA(pair, MessageType.CookieReply)} cookie replies " +
        $"and {SentBToA(pair, MessageType.Response)} responses; B under load {pair.B.IsUnderLoad(pair.B.Now)}, " +
        $"{pair.Network.Backlog(DevicePair.EndpointB)} datagrams waiting at B's bind, {pair.B.QueuedHandshakes} in its handshake queue, " +
        $"queueFull={pair.B.Counters.HandshakeQueueFull} rateLimited={pair.B.Counters.RateLimited} " +
        $"cookies={pair.B.Counters.CookieRepliesSent} rejected={pair.B.Counters.HandshakeRejected} badMac={pair.B.Counters.BadMac}";
}
