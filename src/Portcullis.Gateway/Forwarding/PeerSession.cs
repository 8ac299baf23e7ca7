using System.Net;
using Portcullis.Core.RateLimiting;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Forwarding;

/// <summary>
/// A peer with a live WireGuard session: the only thing that may hold dynamic mappings. Guarded by the service's
/// lock. A reconnect is a new instance; the old one's mappings are gone by then.
/// <para>
/// With IPv6 inbound, the session has an IPv6 facet (<see cref="Ipv6"/>): the same peer seen at its IPv6 tunnel
/// address. The facet shares the mapping list and the request bucket, so quota and rate limit count both families,
/// and a session's end releases both; each facet finds only its own mappings (<see cref="Find"/>).
/// </para>
/// </summary>
internal sealed class PeerSession
{
    private TokenBucket _requests;

    public PeerSession(string peerId, IPAddress tunnelAddress, IPAddress publicAddress, TokenBucket requests)
    {
        PeerId = peerId;
        TunnelAddress = tunnelAddress;
        PublicAddress = publicAddress;
        _requests = requests;
        Primary = this;
        Mappings = [];
    }

    private PeerSession(PeerSession primary, IPAddress tunnelAddress, IPAddress publicAddress, bool routed)
    {
        PeerId = primary.PeerId;
        TunnelAddress = tunnelAddress;
        PublicAddress = publicAddress;
        _requests = primary._requests;
        Primary = primary;
        Mappings = primary.Mappings;
        Routed = routed;
    }

    public string PeerId { get; }

    public IPAddress TunnelAddress { get; }

    /// <summary>Where this peer's mappings appear: the first shared address or a dedicated one; for the IPv6 facet the
    /// public IPv6 address (NAT66) or the peer's own /128 (routed).</summary>
    public IPAddress PublicAddress { get; }

    /// <summary>The IPv4 session this is the IPv6 facet of, or itself.</summary>
    public PeerSession Primary { get; }

    /// <summary>The IPv6 facet, when the tunnel has IPv6 inbound; null otherwise (and on the facet itself).</summary>
    public PeerSession? Ipv6 { get; private set; }

    /// <summary>A routed IPv6 facet: mappings are pinholes, external port = internal port, no allocation.</summary>
    public bool Routed { get; }

    public TokenBucket Requests
    {
        get => Primary == this ? _requests : Primary.Requests;
        set => Primary._requests = value;
    }

    /// <summary>Live mappings of both facets, at most the quota (a handful): a list searched linearly beats a dictionary here.</summary>
    public List<Mapping> Mappings { get; }

    /// <summary>Adds the IPv6 facet at <paramref name="tunnelAddress"/>; mappings appear on <paramref name="publicAddress"/>.</summary>
    public PeerSession AddIpv6(IPAddress tunnelAddress, IPAddress publicAddress, bool routed) =>
        Ipv6 = new PeerSession(this, tunnelAddress, publicAddress, routed);

    /// <summary>This facet's mapping a request for (protocol, internal port as requested; 0 = mirror the public port) names.</summary>
    public Mapping? Find(MappingProtocol protocol, ushort requestedInternalPort)
    {
        foreach (var mapping in Mappings)
        {
            if (mapping.Owner == this && mapping.Remote is null && mapping.Protocol == protocol
                && mapping.RequestedInternalPort == requestedInternalPort)
                return mapping;
        }
        return null;
    }

    /// <summary>This facet's PEER mapping for the flow (protocol, internal port) → <paramref name="remote"/>.</summary>
    public Mapping? FindPeer(MappingProtocol protocol, ushort internalPort, IPEndPoint remote)
    {
        foreach (var mapping in Mappings)
        {
            if (mapping.Owner == this && mapping.Protocol == protocol && mapping.InternalPort == internalPort
                && remote.Equals(mapping.Remote))
                return mapping;
        }
        return null;
    }
}
