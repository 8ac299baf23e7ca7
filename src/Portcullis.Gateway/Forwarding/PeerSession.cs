using System.Net;
using Portcullis.Core.RateLimiting;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Forwarding;

/// <summary>
/// A peer with a live WireGuard session: the only thing that may hold dynamic mappings. Guarded by the service's
/// lock. A reconnect is a new instance; the old one's mappings are gone by then.
/// </summary>
internal sealed class PeerSession(string peerId, IPAddress tunnelAddress, IPAddress publicAddress, TokenBucket requests)
{
    public string PeerId { get; } = peerId;

    public IPAddress TunnelAddress { get; } = tunnelAddress;

    /// <summary>Where this peer's mappings appear: today the first shared address; a dedicated one later.</summary>
    public IPAddress PublicAddress { get; } = publicAddress;

    public TokenBucket Requests { get; set; } = requests;

    /// <summary>Live mappings, at most the quota (a handful): a list searched linearly beats a dictionary here.</summary>
    public List<Mapping> Mappings { get; } = [];

    /// <summary>The mapping a request for (protocol, internal port as requested; 0 = mirror the public port) names.</summary>
    public Mapping? Find(MappingProtocol protocol, ushort requestedInternalPort)
    {
        foreach (var mapping in Mappings)
        {
            if (mapping.Protocol == protocol && mapping.RequestedInternalPort == requestedInternalPort)
                return mapping;
        }
        return null;
    }
}
