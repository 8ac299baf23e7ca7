using System.Net;
using Portcullis.Gateway.Admin;
using Portcullis.Gateway.Configuration;
using Portcullis.Gateway.Store;
using Portcullis.WireGuard.Device;
using Portcullis.WireGuard.Uapi;

namespace Portcullis.Gateway.Hosting;

/// <summary>The userspace WireGuard device behind <see cref="IGatewayPeerDevice"/>: peer changes as UAPI set requests.</summary>
internal sealed class DevicePeers(WireGuardDevice device, TunnelIpv6? ipv6) : IGatewayPeerDevice
{
    public void AddPeer(StoredPeer peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        device.Apply(new UapiSetRequest { Peers = [Change(peer, ipv6)] });
    }

    public void RemovePeer(string publicKey) =>
        device.Apply(new UapiSetRequest { Peers = [new UapiPeerChange { PublicKey = Convert.FromBase64String(publicKey), Remove = true }] });

    // A lookup, not a scan of the peer list: listing 10 000 peers asks once per peer (bench/gateway-scale).
    public PeerLink GetLink(string publicKey) =>
        device.FindPeer(Convert.FromBase64String(publicKey)) is { } peer
            ? new PeerLink(peer.HasLiveSession, peer.LastHandshake, (long)peer.RxBytes, (long)peer.TxBytes)
            : default;

    /// <summary>
    /// The change that puts a stored peer in the device: its key, allowed-ips exactly its /32 and, when the tunnel
    /// carries IPv6, its twin's /128.
    /// </summary>
    public static UapiPeerChange Change(StoredPeer peer, TunnelIpv6? ipv6) => new()
    {
        PublicKey = Convert.FromBase64String(peer.PublicKey),
        ReplaceAllowedIps = true,
        AddedAllowedIps = ipv6 is null
            ? [new IPNetwork(peer.TunnelAddress, 32)]
            : [new IPNetwork(peer.TunnelAddress, 32), new IPNetwork(ipv6.Twin(peer.TunnelAddress), 128)],
    };
}
