using System.Net;

namespace Portcullis.PortMapping.ClientSide;

/// <summary>How one map or delete exchange with the gateway ended.</summary>
public enum MappingOutcome
{
    /// <summary>The gateway granted (or deleted) the mapping.</summary>
    Granted,
    /// <summary>The gateway answered with an error result; <see cref="MappingAnswer.ResultCode"/> says which.</summary>
    Refused,
    /// <summary>No valid answer arrived within the retransmission schedule.</summary>
    NoAnswer,
}

/// <summary>Which protocol carried an exchange.</summary>
public enum MappingWire
{
    Pcp,
    NatPmp,
}

/// <summary>
/// What the client asks for. <see cref="InternalPort"/> 0 asks for "the same port as the external one", which only
/// NAT-PMP can say (PCP's internal port 0 means "all ports", RFC 6887 §11.1), so such a request always goes over NAT-PMP.
/// </summary>
public sealed record ClientMapRequest(MappingProtocol Protocol, ushort InternalPort, ushort SuggestedExternalPort, uint LifetimeSeconds)
{
    /// <summary>The PCP mapping nonce (12 bytes), kept for the life of the lease: refreshes and the delete need it.</summary>
    public required ReadOnlyMemory<byte> Nonce { get; init; }

    /// <summary>
    /// The remote peers the mapping should admit (PCP FILTER), sent with every map and refresh; empty (the default)
    /// admits everyone. Only PCP carries them: a request with filters is never sent over NAT-PMP.
    /// </summary>
    public IReadOnlyList<RemoteFilter> Filters { get; init; } = [];
}

/// <summary>
/// One answer, protocol-neutral. <see cref="ResultCode"/> is the wire result code (PCP or NAT-PMP per
/// <see cref="Wire"/>); <see cref="Epoch"/> the server's epoch seconds, which the caller checks for lost state.
/// </summary>
public readonly record struct MappingAnswer(
    MappingOutcome Outcome,
    MappingWire Wire,
    int ResultCode,
    uint Epoch,
    ushort InternalPort,
    ushort ExternalPort,
    IPAddress? ExternalAddress,
    uint LifetimeSeconds)
{
    public static MappingAnswer None(MappingWire wire) => new(MappingOutcome.NoAnswer, wire, -1, 0, 0, 0, null, 0);
}
