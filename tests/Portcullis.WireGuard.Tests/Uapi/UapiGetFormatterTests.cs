using System.Net;
using Portcullis.Core.Io;
using Portcullis.WireGuard.Uapi;
using static Portcullis.WireGuard.Tests.Uapi.UapiTestKeys;

namespace Portcullis.WireGuard.Tests.Uapi;

public sealed class UapiGetFormatterTests
{
    [Fact]
    public void Format_FullDevice_WritesKeysInWireGuardGoOrder()
    {
        var state = new UapiDeviceState(Bytes(AlicePrivateHex), 51820, 0x20,
        [
            new UapiPeerState(Bytes(BobPublicHex), Bytes(PresharedHex),
                UdpEndpoint.FromIPEndPoint(IPEndPoint.Parse("[2001:db8::1]:443")),
                DateTimeOffset.FromUnixTimeSeconds(1_700_000_000).AddTicks(1_234_567),
                1000, 2000, 25, [IPNetwork.Parse("10.0.0.2/32"), IPNetwork.Parse("fd00::2/128")]),
            new UapiPeerState(Bytes(CarolPublicHex), new byte[32], UdpEndpoint.FromIPv4([192, 0, 2, 1], 51820), null, 0, 0, 0, []),
        ]);

        var text = UapiGetFormatter.Format(state);

        Assert.Equal(
            $"private_key={AlicePrivateHex}\nlisten_port=51820\nfwmark=32\n" +
            $"public_key={BobPublicHex}\npreshared_key={PresharedHex}\nprotocol_version=1\nendpoint=[2001:db8::1]:443\n" +
            "last_handshake_time_sec=1700000000\nlast_handshake_time_nsec=123456700\ntx_bytes=1000\nrx_bytes=2000\n" +
            "persistent_keepalive_interval=25\nallowed_ip=10.0.0.2/32\nallowed_ip=fd00::2/128\n" +
            $"public_key={CarolPublicHex}\nprotocol_version=1\nendpoint=192.0.2.1:51820\n" +
            "last_handshake_time_sec=0\nlast_handshake_time_nsec=0\ntx_bytes=0\nrx_bytes=0\npersistent_keepalive_interval=0\n",
            text);
    }

    [Fact]
    public void Format_EmptyDevice_OmitsUnsetKeys()
    {
        Assert.Equal("listen_port=0\n", UapiGetFormatter.Format(new UapiDeviceState(null, 0, 0, [])));
        Assert.Equal("listen_port=7\n", UapiGetFormatter.Format(new UapiDeviceState(new byte[32], 7, 0, [])));
    }

    [Fact]
    public void Format_PeerWithoutEndpoint_OmitsEndpointLine()
    {
        var state = new UapiDeviceState(null, 1, 0, [new UapiPeerState(Bytes(BobPublicHex), null, null, null, 0, 0, 0, [])]);

        Assert.DoesNotContain("endpoint=", UapiGetFormatter.Format(state), StringComparison.Ordinal);
    }

    [Fact]
    public void Format_MaxCounters_WritesFullUnsignedRange()
    {
        var state = new UapiDeviceState(null, 65535, uint.MaxValue,
            [new UapiPeerState(Bytes(BobPublicHex), null, null, null, ulong.MaxValue, ulong.MaxValue, 65535, [])]);

        var text = UapiGetFormatter.Format(state);

        Assert.Contains("fwmark=4294967295\n", text, StringComparison.Ordinal);
        Assert.Contains("tx_bytes=18446744073709551615\nrx_bytes=18446744073709551615\n", text, StringComparison.Ordinal);
        Assert.Contains("persistent_keepalive_interval=65535\n", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("2021-01-01T00:00:00.1234567Z", 1609459200, 123456700)]
    [InlineData("1970-01-01T00:00:00Z", 0, 0)]
    [InlineData("1969-12-31T23:59:59.5Z", -1, 500000000)]
    [InlineData("2021-01-01T02:00:00+02:00", 1609459200, 0)]
    public void SplitUnixTime_Instant_GivesSecondsAndNanoseconds(string instant, long seconds, long nanoseconds)
    {
        var split = UapiGetFormatter.SplitUnixTime(DateTimeOffset.Parse(instant, System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal((seconds, nanoseconds), split);
    }
}
