using System.Collections.Concurrent;
using System.Text;
using Portcullis.Core.Io;
using Portcullis.WireGuard.Device;
using Portcullis.WireGuard.Messages;
using Portcullis.WireGuard.Tests.Doubles;

namespace Portcullis.WireGuard.Tests.Device;

/// <summary>
/// What must not take the data path down: hostile datagrams inside a batch of good ones, a crypto worker that
/// throws, the MTU changing under the device (`ip link set IF mtu N`), and the interface going away.
/// </summary>
public sealed class DeviceResilienceTests
{
    private static readonly UdpEndpoint Attacker = UdpEndpoint.FromIPv4([198, 51, 100, 7], 4444);

    [Fact]
    public void Receive_OversizedAndGarbageDatagramsInsideOneBatch_CostOnlyThemselves()
    {
        using var pair = new DevicePair();
        Assert.NotNull(pair.SendAToB("session up"));
        var sealedPackets = CaptureTransportFromA(pair, 24);
        var random = new Random(16);
        var batch = new List<(UdpEndpoint, byte[])>();
        int oversized = 0, garbage = 0;
        for (var i = 0; i < sealedPackets.Length; i++)
        {
            if (i % 3 == 0)
            {
                // Larger than any buffer the device gives the bind at MTU 1420: the bind drops it and moves the
                // datagrams after it into other buffers.
                var big = new byte[5000 + i];
                random.NextBytes(big);
                big[0] = MessageType.Transport;
                batch.Add((Attacker, big));
                oversized++;
            }
            if (i % 4 == 1)
            {
                var junk = new byte[7 + i];
                random.NextBytes(junk);
                junk[0] = 0xee;
                batch.Add((Attacker, junk));
                garbage++;
            }
            batch.Add((DevicePair.EndpointA, sealedPackets[i]));
        }
        var malformedBefore = pair.B.Counters.Malformed;

        Assert.True(pair.Network.DeliverTogether(DevicePair.EndpointB, batch));

        for (var i = 0; i < sealedPackets.Length; i++)
        {
            var delivered = pair.TunB.Receive(DevicePair.Wait);
            Assert.NotNull(delivered);
            Assert.Equal($"packet {i}", Encoding.ASCII.GetString(delivered.AsSpan(28)));
        }
        Assert.Equal(oversized, pair.Network.BindAt(DevicePair.EndpointB).ReceiveDrops);
        Assert.True(DevicePair.Eventually(() => pair.B.Counters.Malformed == malformedBefore + garbage));
        Assert.Equal(0, pair.B.Counters.AuthenticationFailed);
        Assert.Equal(0, pair.B.Counters.Replayed);
    }

    [Fact]
    public void CryptoWorker_SealThrows_BatchDroppedCountedLoggedAndTheOnlyWorkerGoesOn()
    {
        var crypto = new FailingCrypto();
        using var pair = new DevicePair(options: new DeviceOptions { Workers = 1 }, cryptoA: crypto);
        Assert.NotNull(pair.SendAToB("session up"));

        crypto.FailSeals(1);
        pair.TunA.Inject(TestPackets.Ipv4Udp("10.0.0.1", "10.0.0.2", "lost"u8));
        Assert.True(DevicePair.Eventually(() => pair.A.Counters.CryptoFailed == 1), "the failed batch was not counted");

        var next = pair.SendAToB("after the failure");
        Assert.NotNull(next);
        Assert.Equal("after the failure", Encoding.ASCII.GetString(next.AsSpan(28)));
        Assert.Contains(pair.LogA.Text, line => line.StartsWith("1040 ", StringComparison.Ordinal) && line.Contains("seal failed on purpose", StringComparison.Ordinal));
    }

    [Fact]
    public void CryptoWorker_OpenThrows_BatchDroppedCountedAndTheOnlyWorkerGoesOn()
    {
        var crypto = new FailingCrypto();
        using var pair = new DevicePair(options: new DeviceOptions { Workers = 1 }, cryptoB: crypto);
        Assert.NotNull(pair.SendAToB("session up"));

        crypto.FailOpens(1);
        pair.TunA.Inject(TestPackets.Ipv4Udp("10.0.0.1", "10.0.0.2", "lost"u8));
        Assert.True(DevicePair.Eventually(() => pair.B.Counters.CryptoFailed == 1), "the failed batch was not counted");

        var next = pair.SendAToB("after the failure");
        Assert.NotNull(next);
        Assert.Equal("after the failure", Encoding.ASCII.GetString(next.AsSpan(28)));
        Assert.NotNull(pair.SendBToA("and back"));
        Assert.Equal(0, pair.B.Counters.AuthenticationFailed);
    }

    [Theory]
    [InlineData(9000)]
    [InlineData(34736)] // what wireguard-go's netns test sets: 34816 - 1500 + 1420
    [InlineData(65535)]
    public void Mtu_RaisedOnBothEnds_PacketsOfTheNewSizePassBothWaysAndSmallOnesAfterLoweringIt(int mtu)
    {
        using var pair = new DevicePair();
        Assert.NotNull(pair.SendAToB("session up"));
        Assert.NotNull(pair.SendBToA("both ways"));

        pair.TunA.Mtu = pair.TunB.Mtu = mtu;
        // Reads already waiting hold buffers of the old size; the next small packet each way moves them on.
        Assert.NotNull(pair.SendAToB("after the change"));
        Assert.NotNull(pair.SendBToA("after the change"));
        var big = new byte[mtu - 28];
        new Random(mtu).NextBytes(big);
        var toB = TestPackets.Ipv4Udp("10.0.0.1", "10.0.0.2", big);
        pair.TunA.Inject(toB);
        Assert.Equal(toB, pair.TunB.Receive(DevicePair.Wait));
        var toA = TestPackets.Ipv6Udp("fd00::2", "fd00::1", big.AsSpan(20));
        pair.TunB.Inject(toA);
        Assert.Equal(toA, pair.TunA.Receive(DevicePair.Wait));

        pair.TunA.Mtu = pair.TunB.Mtu = 1420;
        Assert.NotNull(pair.SendAToB("small again"));
        Assert.NotNull(pair.SendBToA("small again"));
        var full = TestPackets.Ipv4Udp("10.0.0.1", "10.0.0.2", new byte[1420 - 28]);
        pair.TunA.Inject(full);
        Assert.Equal(full, pair.TunB.Receive(DevicePair.Wait));
        Assert.Equal(0, pair.B.Counters.AuthenticationFailed + pair.B.Counters.BadInnerPacket);
    }

    [Fact]
    public void TunDeleted_RaisesTunClosedOnce_DisposeDoesNot()
    {
        using var pair = new DevicePair();
        var closedA = 0;
        var closedB = 0;
        pair.A.TunClosed += () => Interlocked.Increment(ref closedA);
        pair.B.TunClosed += () => Interlocked.Increment(ref closedB);

        pair.TunA.Delete();

        Assert.True(DevicePair.Eventually(() => Volatile.Read(ref closedA) == 1));
        pair.B.Dispose();
        Assert.Equal(0, Volatile.Read(ref closedB));
        Assert.Equal(1, Volatile.Read(ref closedA));
    }

    /// <summary>Makes A seal <paramref name="count"/> numbered packets for B and keeps them instead of sending them.</summary>
    private static byte[][] CaptureTransportFromA(DevicePair pair, int count)
    {
        var captured = new ConcurrentQueue<byte[]>();
        pair.Network.Filter = (from, _, data) =>
        {
            if (from != DevicePair.EndpointA || data[0] != MessageType.Transport)
                return true;
            captured.Enqueue(data);
            return false;
        };
        for (var i = 0; i < count; i++)
            pair.TunA.Inject(TestPackets.Ipv4Udp("10.0.0.1", "10.0.0.2", Encoding.ASCII.GetBytes($"packet {i}")));
        Assert.True(DevicePair.Eventually(() => captured.Count == count), $"captured {captured.Count} of {count}");
        pair.Network.Filter = null;
        return [.. captured];
    }
}
