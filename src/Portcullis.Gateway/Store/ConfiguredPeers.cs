using Portcullis.Gateway.Configuration;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Store;

/// <summary>The config file's <c>[[peer]]</c> entries in the form <see cref="IGatewayStore.ApplyConfigPeersAsync"/> takes.</summary>
public static class ConfiguredPeers
{
    /// <summary>
    /// One <see cref="ConfiguredPeer"/> per <c>[[peer]]</c>, in file order. A forward listens on the peer's
    /// dedicated address when it has one, else on the default (first) shared address — in a fleet (a PostgreSQL
    /// store), on every gateway's (<see cref="StoredForward.AnyGateway"/>); "both" becomes a TCP and a UDP forward.
    /// A forward naming its <c>public_address</c> is pinned there: in a fleet, to the gateway that has that address.
    /// </summary>
    public static IReadOnlyList<ConfiguredPeer> From(GatewayConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var peers = new List<ConfiguredPeer>(config.Peers.Count);
        foreach (var peer in config.Peers)
        {
            var peerDefault = peer.DedicatedAddress
                ?? (config.Store.Url is not null ? StoredForward.AnyGateway : config.Nat.PublicAddresses[0]);
            var forwards = new List<ConfiguredForward>();
            foreach (var forward in peer.Forwards)
            {
                var publicAddress = forward.PublicAddress ?? peerDefault;
                foreach (var protocol in forward.Protocol.Mappings())
                    forwards.Add(new ConfiguredForward(publicAddress, protocol, forward.ExternalPort, forward.InternalPort));
            }
            peers.Add(new ConfiguredPeer
            {
                Name = peer.Name,
                PublicKey = peer.PublicKeyBase64,
                TunnelAddress = peer.Address,
                DedicatedAddress = peer.DedicatedAddress,
                DedicatedAddress6 = peer.DedicatedAddress6,
                Forwards = forwards,
            });
        }
        return peers;
    }

    /// <summary>The pool of the config's tunnel prefix, less the gateway's own address.</summary>
    public static TunnelAddressPool Pool(GatewayConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return new TunnelAddressPool(config.Tunnel.Prefix, config.Tunnel.Address);
    }
}
