using System.Net;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Store;

/// <summary>
/// A static forward: (public address, protocol, external port) → (peer, internal port). One row per protocol; the
/// config's "both" is two rows, so "tcp 30000" and "both 30000" clash as they should.
/// </summary>
public sealed record StoredForward
{
    public required IPAddress PublicAddress { get; init; }

    public required MappingProtocol Protocol { get; init; }

    public required ushort ExternalPort { get; init; }

    public required string PeerId { get; init; }

    public required ushort InternalPort { get; init; }

    public ForwardKey Key => new(PublicAddress, Protocol, ExternalPort);
}

/// <summary>A public address that belongs to one peer alone (its egress and ingress).</summary>
public sealed record DedicatedAddress(IPAddress Address, string PeerId);
