using System.Net;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Forwarding;

/// <summary>
/// A PCP PEER mapping (RFC 6887 §12) as the kernel holds it, an explicit outbound mapping: the flow
/// <see cref="ForwardingEntry.TunnelAddress"/>:<see cref="ForwardingEntry.InternalPort"/> → <paramref name="Remote"/>
/// of <see cref="ForwardingEntry.Protocol"/> leaves from <see cref="ForwardingEntry.PublicAddress"/>:<see
/// cref="ForwardingEntry.PublicPort"/> (SNAT, in its family's <c>peers</c> map). Nothing is forwarded inbound but that
/// flow's replies, so it is no DNAT mapping, has no remote filters, and its removal ends no flows. It still owns its
/// <see cref="ForwardingEntry.Key"/>: no port forward takes the same public port. IPv4, or IPv6 with NAT66; the remote
/// is of the tunnel address's family.
/// </summary>
public sealed record PeerEntry(
    IPAddress PublicAddress,
    MappingProtocol Protocol,
    ushort PublicPort,
    IPAddress TunnelAddress,
    ushort InternalPort,
    IPEndPoint Remote,
    string Owner,
    TimeSpan? Timeout)
    : ForwardingEntry(PublicAddress, Protocol, PublicPort, TunnelAddress, InternalPort, Owner, Timeout);
