using System.Net;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Store;

/// <summary>
/// A static forward: (public address, protocol, external port) → (peer, internal port). One row per protocol; the
/// config's "both" is two rows, so "tcp 30000" and "both 30000" clash as they should. In a fleet, a forward whose
/// public address is <see cref="AnyGateway"/> (0.0.0.0) is valid on every server: it lives on whichever gateway its
/// peer is connected to, on that gateway's first shared address.
/// </summary>
public sealed record StoredForward
{
    public required IPAddress PublicAddress { get; init; }

    public required MappingProtocol Protocol { get; init; }

    public required ushort ExternalPort { get; init; }

    public required string PeerId { get; init; }

    public required ushort InternalPort { get; init; }

    public ForwardKey Key => new(PublicAddress, Protocol, ExternalPort);

    /// <summary>The public address of a fleet-wide forward: "every gateway, on its first shared address".</summary>
    public static IPAddress AnyGateway => IPAddress.Any;

    /// <summary>True for a fleet-wide forward (<see cref="AnyGateway"/>).</summary>
    public bool IsFleetWide => PublicAddress.Equals(IPAddress.Any);
}

/// <summary>
/// A public address that belongs to one peer alone (its egress and ingress), on one gateway: the one whose store
/// assigned it (<see cref="IGatewayStore.Gateway"/>; empty on a one-box store). Other gateways of a fleet ignore it.
/// </summary>
public sealed record DedicatedAddress(IPAddress Address, string PeerId)
{
    public string Gateway { get; init; } = "";
}
