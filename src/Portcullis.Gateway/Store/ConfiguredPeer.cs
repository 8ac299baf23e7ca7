using System.Net;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Store;

/// <summary>
/// One <c>[[peer]]</c> of the config file as the store applies it. The config layer maps onto it: public key as
/// base64, a "both" forward as two <see cref="ConfiguredForward"/>s, and each forward's public address resolved
/// (the peer's dedicated address, else the default shared address).
/// </summary>
public sealed record ConfiguredPeer
{
    public required string Name { get; init; }

    /// <summary>Base64 as <c>wg</c> prints it.</summary>
    public required string PublicKey { get; init; }

    /// <summary>Pinned by the file; null keeps the stored address, or allocates one for a new peer.</summary>
    public IPAddress? TunnelAddress { get; init; }

    public IPAddress? DedicatedAddress { get; init; }

    /// <summary>The peer's dedicated IPv6 address (NAT66), kept beside the IPv4 one in the same store table.</summary>
    public IPAddress? DedicatedAddress6 { get; init; }

    public IReadOnlyList<ConfiguredForward> Forwards { get; init; } = [];
}

/// <summary>One protocol of one <c>[[peer.forward]]</c>.</summary>
public sealed record ConfiguredForward(IPAddress PublicAddress, MappingProtocol Protocol, ushort ExternalPort, ushort InternalPort)
{
    public ForwardKey Key => new(PublicAddress, Protocol, ExternalPort);
}

/// <summary>What the store held when a plan was made.</summary>
public sealed record StoreSnapshot(
    IReadOnlyList<StoredPeer> Peers, IReadOnlyList<StoredForward> Forwards, IReadOnlyList<DedicatedAddress> DedicatedAddresses);

/// <summary>
/// The writes that make the store match the config file. <see cref="Updated"/> holds each changed peer's new
/// values (the file's peers, and peers moved off an address the file pins); forwards and dedicated addresses
/// are upserts by their unique key.
/// </summary>
public sealed record ConfigPeerChanges
{
    public IReadOnlyList<StoredPeer> Added { get; init; } = [];

    public IReadOnlyList<StoredPeer> Updated { get; init; } = [];

    public IReadOnlyList<DedicatedAddress> DedicatedAddresses { get; init; } = [];

    public IReadOnlyList<StoredForward> Forwards { get; init; } = [];

    public bool IsEmpty => Added.Count == 0 && Updated.Count == 0 && DedicatedAddresses.Count == 0 && Forwards.Count == 0;
}
