using System.Net;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Forwarding;

/// <summary>
/// A static forward as the forwarding service holds it: (public address, protocol, external port) → (peer, internal
/// port). The service puts it in the kernel while <see cref="PeerId"/> has a live session, at that session's tunnel
/// address, and keeps its port away from dynamic allocation always.
/// </summary>
/// <param name="PeerId">The opaque peer id the sessions use (the store's peer id); the kernel element's owner.</param>
public sealed record StaticForwardRule(IPAddress PublicAddress, MappingProtocol Protocol, ushort ExternalPort, string PeerId, ushort InternalPort);

/// <summary>A static forward and whether it is in the kernel now (its peer is connected).</summary>
public sealed record StaticForwardState(StaticForwardRule Rule, bool Live);
