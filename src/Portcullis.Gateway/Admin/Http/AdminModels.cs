using Microsoft.AspNetCore.Http;
using Portcullis.Gateway.Forwarding;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Admin.Http;

// What the admin API sends. Plain types only (addresses and protocols as strings, times as ISO 8601 UTC, durations
// in seconds), so the OpenAPI document describes them exactly and scripts need no knowledge of .NET types.

public sealed record PeerModel(
    string Id,
    string Name,
    string PublicKey,
    string TunnelAddress,
    string? DedicatedAddress,
    bool Enabled,
    DateTimeOffset CreatedUtc,
    bool Connected,
    DateTimeOffset? LastHandshakeUtc,
    long ReceivedBytes = 0,
    long SentBytes = 0,
    string? Gateway = null,
    string? TunnelAddress6 = null,
    string? DedicatedAddress6 = null)
{
    public static PeerModel From(PeerView peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        return new(peer.Id, peer.Name, peer.PublicKey, peer.TunnelAddress.ToString(), peer.DedicatedAddress?.ToString(),
            peer.Enabled, peer.CreatedUtc, peer.Connected, peer.LastHandshakeUtc, peer.ReceivedBytes, peer.SentBytes, peer.Gateway,
            peer.TunnelAddress6?.ToString(), peer.DedicatedAddress6?.ToString());
    }
}

/// <summary>
/// A peer just added, and its wg-quick file (holding its private key when the gateway made the key pair); with
/// <c>?qr=svg</c> also that file as a QR code (SVG), for the console to show once.
/// </summary>
public sealed record AddedPeerModel(PeerModel Peer, string ClientConfig, string? ClientConfigQrSvg = null);

public sealed record ForwardModel(
    string PublicAddress, string Protocol, int ExternalPort, string PeerId, string PeerName, int InternalPort, bool Live)
{
    public static ForwardModel From(ForwardView forward)
    {
        ArgumentNullException.ThrowIfNull(forward);
        return new(forward.PublicAddress.ToString(), AdminText.Protocol(forward.Protocol), forward.ExternalPort,
            forward.PeerId, forward.PeerName, forward.InternalPort, forward.Live);
    }
}

public sealed record MappingModel(
    string PeerId,
    string? PeerName,
    string TunnelAddress,
    string Protocol,
    int InternalPort,
    string PublicAddress,
    int PublicPort,
    long LifetimeSeconds,
    DateTimeOffset ExpiresUtc)
{
    public static MappingModel From(ActiveMapping mapping, string? peerName)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        return new(mapping.PeerId, peerName, mapping.TunnelAddress.ToString(), AdminText.Protocol(mapping.Protocol),
            mapping.InternalPort, mapping.PublicAddress.ToString(), mapping.PublicPort,
            (long)mapping.Lifetime.TotalSeconds, mapping.ExpiresAt.ToUniversalTime());
    }
}

/// <summary>One audit record: a peer held this public address, protocol and port from <c>StartedUtc</c> to <c>EndedUtc</c> (null: still).</summary>
public sealed record AuditRecordModel(
    string PeerId,
    string? PeerName,
    string Gateway,
    string Protocol,
    string PublicAddress,
    int PublicPort,
    string TunnelAddress,
    int InternalPort,
    DateTimeOffset StartedUtc,
    DateTimeOffset? EndedUtc)
{
    public static AuditRecordModel From(Store.AuditRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return new(record.PeerId, record.PeerName, record.Gateway, AdminText.Protocol(record.Protocol), record.PublicAddress.ToString(),
            record.PublicPort, record.TunnelAddress.ToString(), record.InternalPort, record.StartedUtc, record.EndedUtc);
    }
}

public sealed record PortRangeModel(int First, int Last);

/// <summary>The forwarding policy in force.</summary>
public sealed record EffectivePolicyModel(
    bool Enabled,
    PortRangeModel PortRange,
    int MaxPerPeer,
    long MinLifetimeSeconds,
    long MaxLifetimeSeconds,
    IReadOnlyList<int> BlockedExternalPorts,
    IReadOnlyList<int> BlockedInternalPorts,
    int RequestsPerSecond,
    int Burst,
    long QuarantineSeconds,
    long ReconnectGraceSeconds,
    bool AllowSuggestedPort,
    bool ForwardAllDedicatedPorts,
    int InboundNewPerSecond,
    int InboundMaxConnections,
    int MaxFiltersPerMapping)
{
    public static EffectivePolicyModel From(ForwardingPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return new(policy.Enabled, new PortRangeModel(policy.PortRange.First, policy.PortRange.Last), policy.MaxPerPeer,
            (long)policy.MinLifetime.TotalSeconds, (long)policy.MaxLifetime.TotalSeconds,
            Sorted(policy.BlockedExternalPorts), Sorted(policy.BlockedInternalPorts), policy.RequestsPerSecond,
            policy.Burst, (long)policy.Quarantine.TotalSeconds, (long)policy.ReconnectGrace.TotalSeconds,
            policy.AllowSuggestedPort, policy.ForwardAllDedicatedPorts, policy.InboundNewPerSecond, policy.InboundMaxConnections,
            policy.MaxFiltersPerMapping);
    }

    private static int[] Sorted(IReadOnlySet<ushort> ports)
    {
        var list = new int[ports.Count];
        var i = 0;
        foreach (var port in ports)
            list[i++] = port;
        Array.Sort(list);
        return list;
    }
}

/// <summary>The stored overrides of the config file's policy; null means the file's value applies. Also PUT's body.</summary>
public sealed record PolicyOverridesModel
{
    public bool? ForwardingEnabled { get; init; }

    public PortRangeModel? PortRange { get; init; }

    public int? MaxPerPeer { get; init; }

    public bool? ForwardAllDedicatedPorts { get; init; }

    public int? InboundNewPerSecond { get; init; }

    public int? InboundMaxConnections { get; init; }

    public int? MaxFiltersPerMapping { get; init; }
}

/// <summary>
/// One layer's overrides (<see cref="Gateway"/> null: the fleet's, or one box's) and, when they are in force here, the
/// policy in force (null for another gateway's layer).
/// </summary>
public sealed record PolicyModel(EffectivePolicyModel? Effective, PolicyOverridesModel Overrides, string? Gateway = null);

/// <summary>A gateway of the fleet (GET /api/v1/gateways).</summary>
public sealed record GatewayModel(
    string Name,
    string Region,
    string? DefaultAddress,
    bool Up,
    DateTimeOffset LastSeenUtc,
    DateTimeOffset StartedUtc,
    int ConnectedPeers,
    int DynamicMappings,
    int LiveStaticForwards,
    string Version,
    int SchemaVersion);

public sealed record StatusModel(
    string Interface,
    string PublicKey,
    int ListenPort,
    IReadOnlyList<string> PublicAddresses,
    int Peers,
    int ConnectedPeers,
    int DynamicMappings,
    int LiveStaticForwards,
    long EpochSeconds,
    DateTimeOffset StartedUtc,
    string Version)
{
    public static StatusModel From(GatewayStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        var addresses = new string[status.PublicAddresses.Count];
        for (var i = 0; i < addresses.Length; i++)
            addresses[i] = status.PublicAddresses[i].ToString();
        return new(status.Interface, status.PublicKey, status.ListenPort, addresses, status.Peers, status.ConnectedPeers,
            status.DynamicMappings, status.LiveStaticForwards, status.EpochSeconds, status.StartedUtc, status.Version);
    }
}

/// <summary>POST /api/v1/peers.</summary>
public sealed record AddPeerBody
{
    public required string Name { get; init; }

    /// <summary>Base64, as <c>wg</c> prints it; leave out to have the gateway make the key pair.</summary>
    public string? PublicKey { get; init; }

    public string? TunnelAddress { get; init; }

    public string? DedicatedAddress { get; init; }

    /// <summary>A dedicated IPv6 address (NAT66 only), beside or instead of the IPv4 one.</summary>
    public string? DedicatedAddress6 { get; init; }
}

/// <summary>POST /api/v1/forwards.</summary>
public sealed record AddForwardBody
{
    /// <summary>Peer id or name.</summary>
    public required string Peer { get; init; }

    /// <summary>tcp, udp or both.</summary>
    public required string Protocol { get; init; }

    public required int ExternalPort { get; init; }

    /// <summary>Leave out for the external port.</summary>
    public int? InternalPort { get; init; }

    /// <summary>Leave out for the peer's dedicated address, else the gateway's default public address.</summary>
    public string? PublicAddress { get; init; }
}

/// <summary>The text forms the API and the CLI share.</summary>
internal static class AdminText
{
    public static string Protocol(MappingProtocol protocol) => protocol == MappingProtocol.Tcp ? "tcp" : "udp";
}

/// <summary>Headers of the admin API beyond HTTP's own.</summary>
public static class AdminHeaders
{
    /// <summary>
    /// On an answer made from what the gateway last knew because its fleet's database is away: why, in one line
    /// (<see cref="IGatewayOperations.LastKnownOnly"/>). The CLI prints it to stderr.
    /// </summary>
    public const string LastKnown = "Portcullis-Last-Known";

    internal static void MarkLastKnown(HttpResponse response, IGatewayOperations operations)
    {
        if (operations.LastKnownOnly is not { } reason)
            return;
        // A header is one line of visible ASCII: anything else in a driver's message becomes '?'.
        response.Headers[LastKnown] = string.Create(reason.Length, reason, static (span, text) =>
        {
            for (var i = 0; i < text.Length; i++)
                span[i] = text[i] is >= ' ' and <= '~' ? text[i] : '?';
        });
    }
}
