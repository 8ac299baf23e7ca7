using System.Net;

namespace Portcullis.PortMapping;

/// <summary>Transport protocol of a mapping (IANA protocol numbers, as PCP carries them).</summary>
public enum MappingProtocol : byte
{
    Tcp = 6,
    Udp = 17,
}

/// <summary>
/// What a protocol front end (NAT-PMP, PCP) asks of the policy layer — protocol-neutral, as miniupnpd's
/// upnpredirect.c sits between natpmp.c/pcpserver.c and the firewall backend. The front end parses and validates
/// bytes; the authority decides; the authority never sees a packet and the front end never sees nftables.
/// <see cref="MapRequest.Client"/> is the request's packet source, i.e. the authenticated peer's tunnel address.
/// Implementations are thread-safe.
/// </summary>
public interface IPortMappingAuthority
{
    /// <summary>Seconds since the mapping state began (NAT-PMP "seconds since start of epoch", PCP epoch time).</summary>
    uint EpochSeconds { get; }

    /// <summary>The public address a client's mappings appear on (NAT-PMP opcode 0, PCP MAP's assigned address).</summary>
    MapResult GetPublicAddress(IPAddress client);

    /// <summary>
    /// Creates or refreshes a mapping, or deletes it when <see cref="MapRequest.Lifetime"/> is zero.
    /// A repeated request for the same (client, protocol, internal port) refreshes and returns the same mapping.
    /// </summary>
    MapResult Map(MapRequest request);

    /// <summary>
    /// Deletes every mapping of this client for one protocol that answers to <paramref name="nonce"/>: with none, the
    /// mappings made without a nonce (NAT-PMP internal port 0, lifetime 0); with a PCP nonce, only the mappings that
    /// nonce made (RFC 6887 §15: a delete names its mappings by nonce, so one application never ends another's).
    /// </summary>
    MapResult DeleteAll(IPAddress client, MappingProtocol protocol, ReadOnlyMemory<byte>? nonce = null);

    /// <summary>
    /// PCP PEER (RFC 6887 §12): creates or refreshes an explicit outbound mapping for the flow (client, protocol,
    /// internal port) → (remote address, remote port), or deletes it when <see cref="PeerMappingRequest.Lifetime"/> is zero.
    /// The answer names the public address and port the flow leaves from. A repeated request refreshes and keeps the
    /// port; like MAP, a mapping answers only to the nonce that made it.
    /// </summary>
    MapResult Peer(PeerMappingRequest request);
}

/// <summary>A PEER request as the policy layer sees it (the front end checked that no field is zero).</summary>
public sealed record PeerMappingRequest
{
    public required IPAddress Client { get; init; }
    public required MappingProtocol Protocol { get; init; }
    public required ushort InternalPort { get; init; }
    public required IPAddress RemoteAddress { get; init; }
    public required ushort RemotePort { get; init; }

    /// <summary>Requested lifetime; zero deletes. Clamped like a MAP's.</summary>
    public required TimeSpan Lifetime { get; init; }

    /// <summary>A port the client would like (0 = none). Honoured only where policy allows it.</summary>
    public ushort SuggestedExternalPort { get; init; }

    /// <summary>A public address the client would like, or null.</summary>
    public IPAddress? SuggestedExternalAddress { get; init; }

    /// <summary>PCP's 12-byte mapping nonce.</summary>
    public ReadOnlyMemory<byte>? Nonce { get; init; }
}

/// <summary>A MAP request as the policy layer sees it.</summary>
public sealed record MapRequest
{
    public required IPAddress Client { get; init; }
    public required MappingProtocol Protocol { get; init; }
    public required ushort InternalPort { get; init; }

    /// <summary>Requested lifetime; zero deletes. The authority clamps it to its configured bounds.</summary>
    public required TimeSpan Lifetime { get; init; }

    /// <summary>A port the client would like (0 = none). Honoured only where policy allows it.</summary>
    public ushort SuggestedExternalPort { get; init; }

    /// <summary>A public address the client would like (PCP), or null.</summary>
    public IPAddress? SuggestedExternalAddress { get; init; }

    /// <summary>PCP PREFER_FAILURE: fail rather than give another port than the suggested one.</summary>
    public bool PreferFailure { get; init; }

    /// <summary>PCP's 12-byte mapping nonce; null for NAT-PMP. A mapping created with a nonce answers only to it.</summary>
    public ReadOnlyMemory<byte>? Nonce { get; init; }

    /// <summary>
    /// The remote peers the mapping admits (PCP FILTER). Null leaves a mapping's filters as they are (a refresh without
    /// FILTER; a new mapping has none); empty removes them (FILTER with prefix length 0); otherwise they replace the
    /// mapping's filters. Each filter is of the client's address family.
    /// </summary>
    public IReadOnlyList<RemoteFilter>? Filters { get; init; }
}

/// <summary>The policy layer's answer, protocol-neutral; each front end turns it into its own result code.</summary>
public enum MapStatus
{
    Success,
    /// <summary>Port forwarding is disabled, or the request is not this client's to make (another nonce, third party).</summary>
    NotAuthorized,
    /// <summary>The client holds its maximum number of mappings.</summary>
    QuotaExceeded,
    /// <summary>No port is free, or the client is rate limited.</summary>
    NoResources,
    /// <summary>PREFER_FAILURE and the suggested port cannot be given.</summary>
    CannotProvideExternal,
    /// <summary>The kernel could not be programmed.</summary>
    NetworkFailure,
    /// <summary>The client's address belongs to no known peer with a live session.</summary>
    UnknownClient,
    /// <summary>More remote-peer filters than policy allows on one mapping (PCP EXCESSIVE_REMOTE_PEERS).</summary>
    ExcessiveRemotePeers,
}

public sealed record MapResult(MapStatus Status, IPAddress? ExternalAddress, ushort ExternalPort, ushort InternalPort, TimeSpan Lifetime)
{
    /// <summary>The remote-peer filters the mapping holds now (empty: it admits everyone).</summary>
    public IReadOnlyList<RemoteFilter> Filters { get; init; } = [];

    public static MapResult Failure(MapStatus status) => new(status, null, 0, 0, TimeSpan.Zero);
}
