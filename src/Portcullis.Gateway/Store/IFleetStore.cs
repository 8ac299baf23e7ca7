using System.Net;

namespace Portcullis.Gateway.Store;

/// <summary>
/// What a fleet's shared store knows beyond one gateway's state: the gateways themselves (for the operator's view)
/// and which gateway each connected peer is on ("presence"). Written by each gateway about itself, through the store
/// it opened for its own name (<see cref="IGatewayStore.Gateway"/>); best effort, as a status board is: the store
/// being away must never stop a gateway serving.
/// </summary>
public interface IFleetStore
{
    /// <summary>The peers with these ids that exist (a change names the peers it touched).</summary>
    Task<IReadOnlyList<StoredPeer>> GetPeersAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken = default);

    /// <summary>The static forwards of these peers.</summary>
    Task<IReadOnlyList<StoredForward>> ListForwardsOfAsync(IReadOnlyCollection<string> peerIds, CancellationToken cancellationToken = default);

    /// <summary>Enters (or re-enters, after a restart) this gateway in the fleet's list, up and seen now.</summary>
    Task RegisterGatewayAsync(GatewayRegistration registration, CancellationToken cancellationToken = default);

    /// <summary>This gateway is alive, with these figures (a heartbeat).</summary>
    Task ReportGatewayAsync(GatewayFigures figures, CancellationToken cancellationToken = default);

    /// <summary>This gateway stopped cleanly: listed as down, its presence rows gone.</summary>
    Task MarkGatewayStoppedAsync(CancellationToken cancellationToken = default);

    /// <summary>Every gateway the fleet has seen, by name.</summary>
    Task<IReadOnlyList<FleetGateway>> ListGatewaysAsync(CancellationToken cancellationToken = default);

    /// <summary>Makes this gateway's presence exactly <paramref name="peerIds"/> (after a reconnect, or with presence off: none).</summary>
    Task ReplacePresenceAsync(IReadOnlyCollection<string> peerIds, CancellationToken cancellationToken = default);

    /// <summary>One peer connected to or left this gateway.</summary>
    Task SetPresenceAsync(string peerId, bool connected, CancellationToken cancellationToken = default);

    /// <summary>Which gateway each connected peer is on, as the gateways last reported it.</summary>
    Task<IReadOnlyList<PeerPresence>> ListPresenceAsync(CancellationToken cancellationToken = default);
}

/// <summary>What a gateway says about itself at start.</summary>
public sealed record GatewayRegistration(string Region, IPAddress DefaultAddress, string Version);

/// <summary>A gateway's figures at a heartbeat.</summary>
public sealed record GatewayFigures(int ConnectedPeers, int DynamicMappings, int LiveStaticForwards);

/// <summary>A gateway as the fleet's list holds it. <see cref="Up"/>: seen within <c>FleetTiming.DownAfter</c> and not stopped.</summary>
public sealed record FleetGateway
{
    public required string Name { get; init; }
    public string Region { get; init; } = "";
    public string? DefaultAddress { get; init; }
    public required string Version { get; init; }
    public required int SchemaVersion { get; init; }
    public required DateTimeOffset StartedUtc { get; init; }
    public required DateTimeOffset LastSeenUtc { get; init; }
    public required bool Up { get; init; }
    public required int ConnectedPeers { get; init; }
    public required int DynamicMappings { get; init; }
    public required int LiveStaticForwards { get; init; }
}

/// <summary>A connected peer and the gateway it is on.</summary>
public sealed record PeerPresence(string PeerId, string Gateway);
