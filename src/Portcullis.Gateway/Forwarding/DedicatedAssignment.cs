using System.Net;

namespace Portcullis.Gateway.Forwarding;

/// <summary>
/// A peer's own public address (DESIGN §6 <c>dedicated_address</c>): it egresses from it, its mappings appear on it,
/// and no one else's traffic ever uses it.
/// </summary>
/// <param name="PeerId">The peer's opaque id, as given to <see cref="ForwardingService.PeerSessionStarted"/>.</param>
/// <param name="TunnelAddress">The peer's assigned tunnel address of the public address's family (its egress is matched by it).</param>
/// <param name="PublicAddress">The dedicated address: IPv4, or IPv6 in NAT66 mode; routed to the gateway's public interface, not a shared one.</param>
public sealed record DedicatedAssignment(string PeerId, IPAddress TunnelAddress, IPAddress PublicAddress);
