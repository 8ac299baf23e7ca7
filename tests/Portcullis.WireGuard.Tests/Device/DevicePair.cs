using System.Net;
using Microsoft.Extensions.Time.Testing;
using Portcullis.Core.Io;
using Portcullis.WireGuard.Crypto;
using Portcullis.WireGuard.Device;
using Portcullis.WireGuard.Tests.Doubles;
using Portcullis.WireGuard.Tests.Uapi;
using Portcullis.WireGuard.Uapi;

namespace Portcullis.WireGuard.Tests.Device;

/// <summary>
/// Two real devices wired to each other through an in-memory network and in-memory TUNs (as wireguard-go's
/// device_test.go). A: 10.0.0.1 and fd00::1 at 192.0.2.1:51820; B: 10.0.0.2 and fd00::2 at 192.0.2.2:51821.
/// Time is virtual when a FakeTimeProvider is given: timers fire only when the test advances the clock.
/// </summary>
internal sealed class DevicePair : IDisposable
{
    public static readonly UdpEndpoint EndpointA = UdpEndpoint.FromIPv4([192, 0, 2, 1], 51820);
    public static readonly UdpEndpoint EndpointB = UdpEndpoint.FromIPv4([192, 0, 2, 2], 51821);

    public DevicePair(FakeTimeProvider? time = null, bool withPresharedKey = false, DeviceOptions? options = null,
        IWireGuardCrypto? cryptoA = null, IWireGuardCrypto? cryptoB = null)
    {
        Time = time;
        var crypto = new OpenSslCrypto();
        crypto.GeneratePrivateKey(PrivateA);
        crypto.GeneratePrivateKey(PrivateB);
        crypto.DerivePublicKey(PrivateA, PublicA);
        crypto.DerivePublicKey(PrivateB, PublicB);
        byte[]? psk = null;
        if (withPresharedKey)
        {
            psk = new byte[32];
            crypto.RandomBytes(psk);
        }
        TunA = new InMemoryTun("wga");
        TunB = new InMemoryTun("wgb");
        A = new WireGuardDevice(TunA, Network.Factory([192, 0, 2, 1]), LogA, options, time, cryptoA ?? crypto);
        B = new WireGuardDevice(TunB, Network.Factory([192, 0, 2, 2]), LogB, options, time, cryptoB ?? crypto);
        A.Apply(new UapiSetRequest
        {
            PrivateKey = PrivateA,
            ListenPort = EndpointA.Port,
            Peers = [new UapiPeerChange
            {
                PublicKey = PublicB, PresharedKey = psk, Endpoint = EndpointB,
                AddedAllowedIps = [IPNetwork.Parse("10.0.0.2/32"), IPNetwork.Parse("fd00::2/128")],
            }],
        });
        B.Apply(new UapiSetRequest
        {
            PrivateKey = PrivateB,
            ListenPort = EndpointB.Port,
            Peers = [new UapiPeerChange
            {
                PublicKey = PublicA, PresharedKey = psk, Endpoint = EndpointA,
                AddedAllowedIps = [IPNetwork.Parse("10.0.0.1/32"), IPNetwork.Parse("fd00::1/128")],
            }],
        });
        A.Up();
        B.Up();
    }

    public InMemoryNetwork Network { get; } = new();
    public CapturingLogger LogA { get; } = new();
    public CapturingLogger LogB { get; } = new();
    public FakeTimeProvider? Time { get; }
    public byte[] PrivateA { get; } = new byte[32];
    public byte[] PrivateB { get; } = new byte[32];
    public byte[] PublicA { get; } = new byte[32];
    public byte[] PublicB { get; } = new byte[32];
    public InMemoryTun TunA { get; }
    public InMemoryTun TunB { get; }
    public WireGuardDevice A { get; }
    public WireGuardDevice B { get; }

    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);

    /// <summary>Sends a UDP packet A→B through the tunnel and returns what B's TUN received (null if nothing).</summary>
    public byte[]? SendAToB(string payload = "hello from A")
    {
        var packet = TestPackets.Ipv4Udp("10.0.0.1", "10.0.0.2", System.Text.Encoding.ASCII.GetBytes(payload));
        TunA.Inject(packet);
        return TunB.Receive(Wait);
    }

    public byte[]? SendBToA(string payload = "hello from B")
    {
        var packet = TestPackets.Ipv4Udp("10.0.0.2", "10.0.0.1", System.Text.Encoding.ASCII.GetBytes(payload));
        TunB.Inject(packet);
        return TunA.Receive(Wait);
    }

    /// <summary>Counts datagrams of one message type sent from one endpoint so far.</summary>
    public int CountSent(UdpEndpoint from, byte type) =>
        Network.Sent.Count(s => s.From == from && s.Data.Length > 0 && s.Data[0] == type);

    /// <summary>
    /// Advances virtual time in steps, letting the (real-time) pipelines settle after each, so packets sent by one
    /// timer arrive before the next timer fires — as they would on a real network.
    /// </summary>
    public void Advance(TimeSpan total, TimeSpan? step = null)
    {
        var s = step ?? TimeSpan.FromSeconds(1);
        for (var done = TimeSpan.Zero; done < total; done += s)
        {
            Time!.Advance(s < total - done ? s : total - done);
            Thread.Sleep(15);
        }
    }

    /// <summary>Waits (real time) until <paramref name="condition"/> holds.</summary>
    public static bool Eventually(Func<bool> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? Wait);
        while (DateTime.UtcNow < deadline)
        {
            if (condition())
                return true;
            Thread.Sleep(10);
        }
        return condition();
    }

    public void Dispose()
    {
        A.Dispose();
        B.Dispose();
    }
}
