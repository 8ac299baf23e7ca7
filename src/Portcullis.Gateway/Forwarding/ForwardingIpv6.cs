using System.Net;
using Portcullis.Gateway.Configuration;

namespace Portcullis.Gateway.Forwarding;

/// <summary>
/// What the forwarding service needs of the tunnel's IPv6 side to map ports for peers' IPv6 addresses (PCP MAP for an
/// IPv6 internal address, RFC 6887 §11). A peer's IPv6 tunnel address is its IPv4 one's twin
/// (<see cref="TunnelIpv6.Twin"/>), so a request from an IPv6 address is the peer whose IPv4 address has that host
/// number: same session, quota, rate limit and lease rules.
/// </summary>
/// <param name="Tunnel">The peers' IPv6 prefix and the IPv4 prefix their host numbers come from.</param>
/// <param name="PublicAddress">
/// NAT66: the public IPv6 address mappings appear on (DNAT, ports chosen as for IPv4, in their own namespace). Null:
/// a routed prefix, where a mapping is a pinhole to the peer's own /128 and the external port is the internal one.
/// </param>
public sealed record ForwardingIpv6(TunnelIpv6 Tunnel, IPAddress? PublicAddress)
{
    public bool Routed => PublicAddress is null;
}
