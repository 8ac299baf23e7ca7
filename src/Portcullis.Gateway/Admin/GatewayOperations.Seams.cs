using System.Net;
using Portcullis.Gateway.Store;

namespace Portcullis.Gateway.Admin;

/// <summary>
/// The WireGuard device as <see cref="GatewayOperations"/> drives it: peers in and out, and whether one is
/// connected. The host's implementation is over the userspace device; tests use a double.
/// </summary>
internal interface IGatewayPeerDevice
{
    /// <summary>Adds (or updates) the peer with allowed-ips its tunnel address /32: it can connect from now on.</summary>
    void AddPeer(StoredPeer peer);

    /// <summary>Removes the peer (base64 key); its live session ends at once. Unknown keys are ignored.</summary>
    void RemovePeer(string publicKey);

    /// <summary>The peer's link now; default (not connected, no handshake) for an unknown key.</summary>
    PeerLink GetLink(string publicKey);
}

/// <summary>A peer's link: a live session, the last completed handshake (UTC), and its traffic.</summary>
internal readonly record struct PeerLink(bool Connected, DateTimeOffset? LastHandshakeUtc, long ReceivedBytes = 0, long SentBytes = 0);

/// <summary>
/// Ends tracked flows of a tunnel address that lost its peer, so an address given to another peer next does not
/// inherit the old peer's connections.
/// </summary>
internal interface IPeerFlows
{
    /// <summary>Best effort: a failure is logged by the implementation, never thrown.</summary>
    void Cut(IPAddress tunnelAddress);
}

/// <summary>What the operations report about the gateway itself (fixed at start).</summary>
public sealed record GatewayIdentity
{
    public required string Interface { get; init; }

    /// <summary>The gateway's WireGuard public key, base64.</summary>
    public required string PublicKey { get; init; }

    public required ushort ListenPort { get; init; }

    public required IPAddress TunnelAddress { get; init; }

    public required IPNetwork TunnelPrefix { get; init; }

    /// <summary>The tunnel's IPv6 side; null: IPv4 only. Generated client configs carry the peer's twin address.</summary>
    public Configuration.TunnelIpv6? Ipv6 { get; init; }

    /// <summary>Shared public addresses, the first the default.</summary>
    public required IReadOnlyList<IPAddress> PublicAddresses { get; init; }

    /// <summary>Public IPv6 addresses with NAT66 (<c>[nat] public_addresses6</c>); empty when routed or IPv4 only.</summary>
    public IReadOnlyList<IPAddress> PublicAddresses6 { get; init; } = [];

    /// <summary>The resolvers generated client configs name (<c>[tunnel] dns</c>).</summary>
    public required IReadOnlyList<IPAddress> Dns { get; init; }

    public required DateTimeOffset StartedUtc { get; init; }

    public TunnelAddressPool Pool => new(TunnelPrefix, TunnelAddress);
}
