using System.Net;
using Portcullis.Client.Config;
using Portcullis.Core.Io;
using Portcullis.WireGuard.Uapi;

namespace Portcullis.Client.Connect;

/// <summary>A wg-quick file as the device's configuration: what `wg setconf` would send, minus the wg-quick-only keys.</summary>
public static class DeviceConfiguration
{
    /// <summary>The whole device configuration as one UAPI request (copies of the keys, zeroed by the caller).</summary>
    public static UapiSetRequest Request(WgQuickConfig config, IReadOnlyList<IPEndPoint> endpoints, uint fwMark) => new()
    {
        PrivateKey = (byte[])config.Interface.PrivateKey.Clone(),
        ListenPort = config.Interface.ListenPort,
        Fwmark = fwMark,
        ReplacePeers = true,
        Peers = [.. config.Peers.Select((peer, i) => new UapiPeerChange
        {
            PublicKey = (byte[])peer.PublicKey.Clone(),
            PresharedKey = (byte[]?)peer.PresharedKey?.Clone(),
            Endpoint = UdpEndpoint.FromIPEndPoint(endpoints[i]),
            PersistentKeepaliveInterval = peer.PersistentKeepalive,
            ReplaceAllowedIps = true,
            AddedAllowedIps = peer.AllowedIps,
        })],
    };
}
