using System.Net;
using Portcullis.Gateway.Configuration;
using Portcullis.Gateway.Hosting;
using Portcullis.Gateway.Store;
using Portcullis.WireGuard.Crypto;
using Portcullis.WireGuard.Uapi;

namespace Portcullis.Gateway.Tests.Hosting;

/// <summary>The configuration's private key reaches the device once and is then gone from the configuration.</summary>
public sealed class DeviceSetupTests
{
    [Fact]
    public void Configure_DeviceGetsKeyAndEnabledPeers_ConfigKeyZeroedPublicKeyReturned()
    {
        var (tunnel, key, expectedPublic) = Tunnel();
        var device = new RecordingDevice();
        StoredPeer[] peers = [Peer("a", "10.99.0.2", enabled: true), Peer("b", "10.99.0.3", enabled: false)];

        var publicKey = DeviceSetup.Configure(device, tunnel, peers);

        Assert.Equal(expectedPublic, publicKey);
        Assert.Equal(key, device.PrivateKey);
        Assert.Equal((ushort)51820, device.Request!.ListenPort);
        Assert.True(device.Request.ReplacePeers);
        var change = Assert.Single(device.Request.Peers);
        Assert.Equal([IPNetwork.Parse("10.99.0.2/32")], change.AddedAllowedIps);
        Assert.Equal(new byte[32], tunnel.PrivateKey);
    }

    [Fact]
    public void Configure_DeviceRefuses_ConfigKeyZeroedAnyway()
    {
        var (tunnel, _, _) = Tunnel();
        var device = new RecordingDevice { Refuse = true };

        Assert.Throws<UapiException>(() => DeviceSetup.Configure(device, tunnel, []));

        Assert.Equal(new byte[32], tunnel.PrivateKey);
    }

    private static (TunnelSection Tunnel, byte[] Key, string PublicKey) Tunnel()
    {
        var crypto = new OpenSslCrypto();
        var key = new byte[32];
        crypto.GeneratePrivateKey(key);
        var publicKey = new byte[32];
        crypto.DerivePublicKey(key, publicKey);
        var tunnel = new TunnelSection
        {
            Interface = "pc0",
            PrivateKey = (byte[])key.Clone(),
            Address = IPAddress.Parse("10.99.0.1"),
            Prefix = IPNetwork.Parse("10.99.0.0/16"),
        };
        return (tunnel, key, Convert.ToBase64String(publicKey));
    }

    private static StoredPeer Peer(string name, string address, bool enabled) => new()
    {
        Id = name,
        Name = name,
        PublicKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
        TunnelAddress = IPAddress.Parse(address),
        Enabled = enabled,
        CreatedUtc = DateTimeOffset.UnixEpoch,
    };

    /// <summary>A device that copies what it is given, as the real one does.</summary>
    private sealed class RecordingDevice : IUapiDevice
    {
        public bool Refuse { get; init; }

        public UapiSetRequest? Request { get; private set; }

        public byte[]? PrivateKey { get; private set; }

        public UapiDeviceState GetState() => throw new NotSupportedException();

        public void Apply(UapiSetRequest request)
        {
            if (Refuse)
                throw new UapiException(UapiErrno.AddressInUse, "listen port in use");
            Request = request;
            PrivateKey = (byte[]?)request.PrivateKey?.Clone();
        }
    }
}
