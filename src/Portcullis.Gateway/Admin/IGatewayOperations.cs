using System.Net;
using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Store;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Admin;

/// <summary>
/// What an operator can do to a running gateway: the admin HTTP API and the CLI sit on this, and nothing else.
/// Every change is written to the store first and then applied live (device peers, sessions, kernel), so a change
/// that returned survives a restart and is already in force.
/// Errors: <see cref="AdminRequestException"/> for a request that is wrong in itself (400, its message is the
/// reason), <see cref="StoreConflictException"/> for a clash with what exists (409); not found is null or false.
/// Messages never hold a secret. Thread-safe.
/// </summary>
public interface IGatewayOperations
{
    Task<IReadOnlyList<PeerView>> ListPeersAsync(CancellationToken cancellationToken = default);

    /// <summary>One page of <see cref="ListPeersAsync"/>'s list and the whole count: a page costs its own size.</summary>
    Task<(IReadOnlyList<PeerView> Page, int Total)> ListPeersPageAsync(int offset, int limit, CancellationToken cancellationToken = default);

    /// <summary>The peer with this id or name, or null.</summary>
    Task<PeerView?> GetPeerAsync(string idOrName, CancellationToken cancellationToken = default);

    /// <summary>
    /// Adds a peer and lets it connect at once. Without <see cref="PeerRequest.PublicKey"/> a key pair is generated
    /// and the private key appears once, in <see cref="AddedPeer.ClientConfig"/>; it is never stored or logged.
    /// </summary>
    Task<AddedPeer> AddPeerAsync(PeerRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// Removes the peer with its static forwards and dedicated addresses; within a second its session, mappings
    /// and flows are gone. False when there is no such peer.
    /// </summary>
    Task<bool> RemovePeerAsync(string idOrName, CancellationToken cancellationToken = default);

    /// <summary>Disabling cuts the peer off as removal does but keeps it stored. False when there is no such peer.</summary>
    Task<bool> SetPeerEnabledAsync(string idOrName, bool enabled, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<ForwardView>> ListForwardsAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Adds a static forward (two when <see cref="ForwardRequest.Protocol"/> is both), live at once
    /// when its peer is connected. Null when the peer does not exist.
    /// </summary>
    Task<IReadOnlyList<ForwardView>?> AddForwardAsync(ForwardRequest request, CancellationToken cancellationToken = default);

    /// <summary>False when no forward has this key.</summary>
    Task<bool> RemoveForwardAsync(ForwardKey key, CancellationToken cancellationToken = default);

    /// <summary>Live dynamic mappings (PCP/NAT-PMP leases).</summary>
    IReadOnlyList<ActiveMapping> ListMappings();

    /// <summary>Ends a dynamic mapping and its flows; false when there is none.</summary>
    bool RevokeMapping(IPAddress publicAddress, MappingProtocol protocol, ushort publicPort);

    /// <summary>
    /// Who held <paramref name="publicAddress"/>:<paramref name="publicPort"/> (either protocol) at <paramref name="at"/>,
    /// from the audit trail only (oldest first; empty when nobody did). Throws <see cref="AuditUnavailableException"/>
    /// when auditing is off: the gateway then keeps no record that could answer.
    /// </summary>
    Task<IReadOnlyList<Store.AuditRecord>> FindHoldersAsync(
        IPAddress publicAddress, ushort publicPort, DateTimeOffset at, CancellationToken cancellationToken = default);

    /// <summary>The policy in force and the stored overrides it came from.</summary>
    Task<PolicyView> GetPolicyAsync(CancellationToken cancellationToken = default);

    /// <summary>Stores the overrides (null values fall back to the config file) and puts the result in force.</summary>
    Task<PolicyView> SetPolicyAsync(ServerPolicy policyOverrides, CancellationToken cancellationToken = default);

    /// <summary>One layer's overrides: <paramref name="gateway"/> null for the fleet's (one box: the only layer), else that gateway's.</summary>
    Task<PolicyView> GetPolicyAsync(string? gateway, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stores one layer's overrides; in force at once here when they are this gateway's or the fleet's, on another
    /// gateway when it hears of them. 400 for a gateway name on a one-box gateway.
    /// </summary>
    Task<PolicyView> SetPolicyAsync(ServerPolicy policyOverrides, string? gateway, CancellationToken cancellationToken = default);

    /// <summary>This gateway's name in its fleet; null for one box.</summary>
    string? GatewayName { get; }

    /// <summary>
    /// While a fleet's database is away: a sentence saying so, and that peer reads answer from what this gateway last
    /// knew (its own directory; where other gateways' peers are is unknown then). Null while the store is there.
    /// </summary>
    string? LastKnownOnly { get; }

    /// <summary>The fleet's gateways and which gateway each connected peer is on; both empty for one box.</summary>
    Task<FleetView> GetFleetAsync(CancellationToken cancellationToken = default);

    GatewayStatus GetStatus();
}

/// <summary>A request that is wrong in itself (bad address, port out of range, unknown protocol): HTTP 400.</summary>
public sealed class AdminRequestException : Exception
{
    public AdminRequestException() { }
    public AdminRequestException(string message) : base(message) { }
    public AdminRequestException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>The audit trail cannot answer because auditing is off: HTTP 409, the reason in the message.</summary>
public sealed class AuditUnavailableException : Exception
{
    public AuditUnavailableException() { }
    public AuditUnavailableException(string message) : base(message) { }
    public AuditUnavailableException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>A peer as the operator sees it.</summary>
public sealed record PeerView
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public required string PublicKey { get; init; }
    public required IPAddress TunnelAddress { get; init; }

    /// <summary>The peer's IPv6 tunnel address (its tunnel address's twin) when this gateway carries IPv6; else null.</summary>
    public IPAddress? TunnelAddress6 { get; init; }
    public IPAddress? DedicatedAddress { get; init; }

    /// <summary>The peer's dedicated IPv6 address (NAT66), or null.</summary>
    public IPAddress? DedicatedAddress6 { get; init; }
    public required bool Enabled { get; init; }
    public required DateTimeOffset CreatedUtc { get; init; }

    /// <summary>Has a live WireGuard session now.</summary>
    public required bool Connected { get; init; }

    /// <summary>Last completed handshake, UTC; null when none since the gateway started.</summary>
    public DateTimeOffset? LastHandshakeUtc { get; init; }

    /// <summary>Bytes received from the peer since it was last added to the device (as <c>wg show</c> counts).</summary>
    public long ReceivedBytes { get; init; }

    /// <summary>Bytes sent to the peer since it was last added to the device.</summary>
    public long SentBytes { get; init; }

    /// <summary>
    /// In a fleet, the gateway the peer is connected to (this one, or another as the fleet's presence says; several
    /// joined by ','); null when connected nowhere, or when that gateway keeps its presence to itself.
    /// </summary>
    public string? Gateway { get; init; }
}

/// <summary>What <see cref="IGatewayOperations.AddPeerAsync"/> takes.</summary>
public sealed record PeerRequest
{
    /// <summary>Letters, digits, '.', '_' and '-', 1–64 characters.</summary>
    public required string Name { get; init; }

    /// <summary>Base64 (as <c>wg</c> prints it); null to have the gateway generate a key pair.</summary>
    public string? PublicKey { get; init; }

    /// <summary>Null: the lowest free address of the tunnel prefix.</summary>
    public IPAddress? TunnelAddress { get; init; }

    /// <summary>Must be one the gateway's public interface holds and nobody else has.</summary>
    public IPAddress? DedicatedAddress { get; init; }

    /// <summary>An IPv6 one as well or instead (NAT66 only: <c>[tunnel] address6</c> with <c>[nat] public_addresses6</c>).</summary>
    public IPAddress? DedicatedAddress6 { get; init; }
}

/// <summary>The added peer, and a wg-quick file for it (with its private key when the gateway generated one).</summary>
public sealed record AddedPeer(PeerView Peer, string ClientConfig);

/// <summary>What <see cref="IGatewayOperations.AddForwardAsync"/> takes.</summary>
public sealed record ForwardRequest
{
    /// <summary>Peer id or name.</summary>
    public required string Peer { get; init; }

    /// <summary>Defaults to both TCP and UDP.</summary>
    public ForwardProtocol Protocol { get; init; } = ForwardProtocol.Both;

    public required ushort ExternalPort { get; init; }

    /// <summary>Null: the same as <see cref="ExternalPort"/>.</summary>
    public ushort? InternalPort { get; init; }

    /// <summary>Null: the peer's dedicated address, else the default shared address.</summary>
    public IPAddress? PublicAddress { get; init; }
}

/// <summary>A static forward as the operator sees it.</summary>
public sealed record ForwardView(
    IPAddress PublicAddress, MappingProtocol Protocol, ushort ExternalPort, string PeerId, string PeerName, ushort InternalPort, bool Live);

/// <summary>
/// The stored overrides of one layer (<see cref="Gateway"/> null: the fleet's, or one box's) and the policy in force
/// here — null when the overrides are another gateway's.
/// </summary>
public sealed record PolicyView(ForwardingPolicy? Effective, ServerPolicy Overrides, string? Gateway = null);

/// <summary>A gateway's health at a glance.</summary>
public sealed record GatewayStatus
{
    public required string Interface { get; init; }
    public required string PublicKey { get; init; }
    public required ushort ListenPort { get; init; }
    public required IReadOnlyList<IPAddress> PublicAddresses { get; init; }
    public required int Peers { get; init; }
    public required int ConnectedPeers { get; init; }
    public required int DynamicMappings { get; init; }
    public required int LiveStaticForwards { get; init; }
    public required uint EpochSeconds { get; init; }
    public required DateTimeOffset StartedUtc { get; init; }
    public required string Version { get; init; }
}
