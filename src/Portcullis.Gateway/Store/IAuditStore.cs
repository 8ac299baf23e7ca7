using System.Net;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Store;

/// <summary>
/// The opt-in audit trail ([forwarding] audit_log): which peer held which public address, protocol and port, from when
/// to when. Written only while auditing is on, read only to answer "who held PUBLIC:PORT at TIME", and cut to the
/// retention by the gateway (<see cref="Audit.AuditRecorder"/>). Records outlive their peer (the name is kept beside the
/// id), which is the point of an abuse answer and why the retention matters. Kept apart from
/// <see cref="IGatewayStore"/>, like <see cref="IReplayFloorStore"/>, so a store without it still serves with
/// auditing off. Thread-safe.
/// </summary>
public interface IAuditStore
{
    /// <summary>
    /// Applies <paramref name="changes"/> in order, in one transaction: a start opens a record; an end closes the
    /// open records of its key on this store's gateway (none open: nothing happens).
    /// </summary>
    Task AppendAuditAsync(IReadOnlyList<AuditChange> changes, CancellationToken cancellationToken = default);

    /// <summary>Closes every record of this store's gateway still open, at <paramref name="at"/> (a run that ended without saying).</summary>
    Task<int> CloseOpenAuditAsync(DateTimeOffset at, CancellationToken cancellationToken = default);

    /// <summary>
    /// The records of any gateway whose public address and port are these and whose span holds
    /// <paramref name="at"/> (started at or before it; still open, or ended after it), oldest first. Where none holds
    /// the port itself, the address's <see cref="AuditRecord.EveryPort"/> records that do (a dedicated address).
    /// </summary>
    Task<IReadOnlyList<AuditRecord>> FindAuditAsync(IPAddress publicAddress, ushort publicPort, DateTimeOffset at, CancellationToken cancellationToken = default);

    /// <summary>Deletes this store's gateway's records that ended before <paramref name="endedBefore"/>; returns how many.</summary>
    Task<int> PruneAuditAsync(DateTimeOffset endedBefore, CancellationToken cancellationToken = default);
}

/// <summary>
/// One mapping held by one peer for a span of time; or, with <see cref="PublicPort"/> <see cref="EveryPort"/>, a
/// dedicated address held by one peer: its egress and whatever port of it no mapping holds.
/// </summary>
public sealed record AuditRecord(
    IPAddress PublicAddress,
    MappingProtocol Protocol,
    ushort PublicPort,
    IPAddress TunnelAddress,
    ushort InternalPort,
    string PeerId,
    string? PeerName,
    string Gateway,
    DateTimeOffset StartedUtc,
    DateTimeOffset? EndedUtc)
{
    /// <summary>The port of a dedicated address's record (and its internal port): every port of the address.</summary>
    public const ushort EveryPort = 0;
}

/// <summary>A mapping started (<see cref="Started"/> set) or ended (<see cref="Started"/> null), at <see cref="At"/>.</summary>
public sealed record AuditChange(
    IPAddress PublicAddress,
    MappingProtocol Protocol,
    ushort PublicPort,
    DateTimeOffset At,
    AuditStart? Started)
{
    public static AuditChange End(IPAddress publicAddress, MappingProtocol protocol, ushort publicPort, DateTimeOffset at) =>
        new(publicAddress, protocol, publicPort, at, null);
}

/// <summary>What a start records beside its key.</summary>
public sealed record AuditStart(IPAddress TunnelAddress, ushort InternalPort, string PeerId, string? PeerName);
