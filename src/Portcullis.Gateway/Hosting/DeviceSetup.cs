using System.Security.Cryptography;
using Portcullis.Gateway.Configuration;
using Portcullis.Gateway.Store;
using Portcullis.WireGuard.Crypto;
using Portcullis.WireGuard.Uapi;

namespace Portcullis.Gateway.Hosting;

/// <summary>
/// Start step 2's device configuration. The private key goes from the configuration into the device once: the device
/// keeps its own copy, and the configuration's is zeroed at once, whether the device took it or not, so for the
/// gateway's life the key sits in one place in memory (the device) rather than also in a config object anyone holding
/// the host can reach.
/// </summary>
internal static class DeviceSetup
{
    /// <summary>
    /// Applies the private key, listen port and every enabled peer of <paramref name="peers"/> (allowed-ips its /32, and its IPv6 twin's /128) in
    /// one request, zeroes <paramref name="tunnel"/>'s private key and returns the public key, base64.
    /// </summary>
    public static string Configure(IUapiDevice device, TunnelSection tunnel, IReadOnlyList<StoredPeer> peers)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(tunnel);
        ArgumentNullException.ThrowIfNull(peers);
        Span<byte> publicKey = stackalloc byte[32];
        try
        {
            new OpenSslCrypto().DerivePublicKey(tunnel.PrivateKey, publicKey);
            var changes = new List<UapiPeerChange>(peers.Count);
            foreach (var peer in peers)
            {
                if (peer.Enabled)
                    changes.Add(DevicePeers.Change(peer, tunnel.Ipv6));
            }
            device.Apply(new UapiSetRequest
            {
                PrivateKey = tunnel.PrivateKey,
                ListenPort = tunnel.ListenPort,
                ReplacePeers = true,
                Peers = changes,
            });
            return Convert.ToBase64String(publicKey);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(tunnel.PrivateKey);
        }
    }
}
