using System.Net;

namespace Portcullis.PortMapping.Pcp;

/// <summary>
/// A PCP request that passed every check of <see cref="PcpRequestParser"/>: version 2, a known opcode
/// (ANNOUNCE, MAP or PEER), client address equal to the packet source, well-formed options.
/// </summary>
public sealed record PcpRequest
{
    public required PcpOpcode Opcode { get; init; }

    /// <summary>Requested lifetime in seconds; 0 asks MAP to delete.</summary>
    public required uint RequestedLifetime { get; init; }

    /// <summary>The PCP Client's IP Address field (already checked against the packet source).</summary>
    public required IPAddress ClientAddress { get; init; }

    /// <summary>The MAP opcode data; null for ANNOUNCE and PEER.</summary>
    public PcpMapData? Map { get; init; }

    /// <summary>The PEER opcode data; null for ANNOUNCE and MAP.</summary>
    public PcpPeerData? Peer { get; init; }

    /// <summary>PREFER_FAILURE was present.</summary>
    public bool PreferFailure { get; init; }

    /// <summary>FILTER options, in order (may repeat).</summary>
    public IReadOnlyList<PcpFilter> Filters { get; init; } = [];
}

/// <summary>
/// MAP opcode data (RFC 6887 §11.1): 12-byte nonce, protocol (IANA number, 0 = all), 24 reserved bits, internal
/// port, suggested external port, suggested external address.
/// </summary>
/// <param name="SuggestedExternalAddress">null when the client sent :: or ::ffff:0.0.0.0 (no suggestion).</param>
public sealed record PcpMapData(
    ReadOnlyMemory<byte> Nonce,
    byte Protocol,
    ushort InternalPort,
    ushort SuggestedExternalPort,
    IPAddress? SuggestedExternalAddress);

/// <summary>
/// PEER opcode data (RFC 6887 §12.1): the MAP fields (<see cref="Mapping"/>), then remote peer port, 16 reserved
/// bits, remote peer address. Names one outbound flow: (internal address, protocol, internal port) → (remote address,
/// remote port).
/// </summary>
public sealed record PcpPeerData(PcpMapData Mapping, ushort RemotePeerPort, IPAddress RemotePeerAddress);

/// <summary>A FILTER option (RFC 6887 §13.3): only this remote peer prefix (and port, 0 = any) may use the mapping.</summary>
public sealed record PcpFilter(byte PrefixLength, ushort RemotePort, IPAddress RemoteAddress);

public enum PcpParseStatus
{
    /// <summary><see cref="PcpParseResult.Request"/> holds a request to act on.</summary>
    Valid,
    /// <summary>Answer with an error response carrying <see cref="PcpParseResult.Error"/>.</summary>
    Error,
    /// <summary>RFC 6887 says to drop it silently (shorter than 2 or, at version 2, than 24 bytes; a response).</summary>
    Dropped,
}

public readonly record struct PcpParseResult(PcpParseStatus Status, PcpResultCode Error, PcpRequest? Request)
{
    public static PcpParseResult Valid(PcpRequest request) => new(PcpParseStatus.Valid, PcpResultCode.Success, request);
    public static PcpParseResult Failed(PcpResultCode error) => new(PcpParseStatus.Error, error, null);
    public static PcpParseResult Dropped => new(PcpParseStatus.Dropped, PcpResultCode.Success, null);
}
