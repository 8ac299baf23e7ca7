using Portcullis.WireGuard.Uapi;

namespace Portcullis.WireGuard.Tests.Uapi;

/// <summary>Our UAPI client against our UAPI server (the client against stock `wg`'s view is the lab's status tests).</summary>
public sealed class UapiClientTests
{
    private const string PrivateHex = "e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a";
    private const string PeerHex = "b85996fecc9c7f1fc6d2572a76eda11d59bcd20be8e543b15ce4bd85a8e75a33";
    private const string PresharedHex = "188515093e952f5f22e865cef3012e72f8b5f0b598ac0309d5dacce3b70fcf52";

    [Fact]
    public async Task TryGet_ConfiguredDevice_PeerWithEndpointAndAllowedIpsButNoKeys()
    {
        using var harness = new UapiServerHarness();
        using (var client = await harness.ConnectAsync())
        {
            Assert.Equal(0, await client.RequestErrnoAsync(
                $"set=1\nprivate_key={PrivateHex}\nlisten_port=51820\npublic_key={PeerHex}\npreshared_key={PresharedHex}\n" +
                "endpoint=198.51.100.10:51820\npersistent_keepalive_interval=25\nallowed_ip=10.0.0.2/32\nallowed_ip=fd00::2/128\n\n"));
        }

        var state = UapiClient.TryGet(harness.InterfaceName, TimeSpan.FromSeconds(10), harness.Directory);

        Assert.NotNull(state);
        Assert.Null(state.PrivateKey);
        Assert.Equal(51820, state.ListenPort);
        var peer = Assert.Single(state.Peers);
        Assert.Equal(PeerHex, Convert.ToHexStringLower(peer.PublicKey));
        Assert.Null(peer.PresharedKey);
        Assert.Equal("198.51.100.10:51820", peer.Endpoint?.ToString());
        Assert.Equal(25, peer.PersistentKeepaliveInterval);
        Assert.Equal(["10.0.0.2/32", "fd00::2/128"], peer.AllowedIps.Select(p => p.ToString()));
        Assert.Null(peer.LastHandshake);
    }

    [Fact]
    public void TryGet_NoSocket_Null()
    {
        var directory = Directory.CreateTempSubdirectory("pct-uapi-");
        try
        {
            Assert.Null(UapiClient.TryGet("pctnone", TimeSpan.FromSeconds(1), directory.FullName));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public void ParseGet_LinesBeforeTheFirstPeer_DeviceFieldsOnly()
    {
        var state = UapiClient.ParseGet($"private_key={PrivateHex}\nlisten_port=7\nfwmark=9\npublic_key={PeerHex}\ntx_bytes=5\nlisten_port=8\nerrno=0\n\n");
        Assert.Equal(7, state.ListenPort);
        Assert.Equal(9u, state.Fwmark);
        Assert.Equal(5ul, Assert.Single(state.Peers).TxBytes);
    }
}
