using System.Net;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Forwarding;

/// <summary>
/// A live dynamic mapping as the admin API shows it. It links a public port to a peer, so it belongs behind the
/// admin token and never in a log line (see <see cref="ForwardingPolicy.AuditLog"/>).
/// </summary>
/// <param name="PeerId">The opaque peer id the host gave the session.</param>
/// <param name="HasNonce">Created over PCP: refreshes and deletes must carry the same nonce.</param>
public sealed record ActiveMapping(
    string PeerId,
    IPAddress TunnelAddress,
    MappingProtocol Protocol,
    ushort InternalPort,
    IPAddress PublicAddress,
    ushort PublicPort,
    TimeSpan Lifetime,
    DateTimeOffset ExpiresAt,
    bool HasNonce)
{
    /// <summary>A PCP PEER mapping's remote end (outbound only: nothing inbound reaches its port); null for MAP/NAT-PMP.</summary>
    public IPEndPoint? Remote { get; init; }
}
