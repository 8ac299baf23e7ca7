using System.Net;
using Microsoft.Extensions.Logging;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Forwarding;

/// <summary>
/// Forwarding service log messages, event ids 4000–4049. Invariant 8 (DESIGN §3): nothing below 4040 names a
/// peer, a port or an address, so no default line links a public port to a peer. The 4040s are the opt-in audit
/// trail (<see cref="ForwardingPolicy.AuditLog"/>) and are written only when it is on.
/// </summary>
internal static partial class ForwardingLog
{
    [LoggerMessage(4000, LogLevel.Information, "Forwarding reconciled the kernel table: removed {Removed} entries nobody owns, added {Added}")]
    public static partial void Reconciled(this ILogger logger, int removed, int added);

    [LoggerMessage(4001, LogLevel.Debug, "Forwarding refused a request: {Status}")]
    public static partial void Refused(this ILogger logger, MapStatus status);

    // Only the type: nft's message names addresses and ports, which would link a port to a peer.
    [LoggerMessage(4002, LogLevel.Error, "Forwarding table update failed while {Operation}: {ExceptionType}")]
    public static partial void TableFailed(this ILogger logger, string operation, string exceptionType);

    [LoggerMessage(4003, LogLevel.Warning, "Forwarding could not remove {Count} mappings from the kernel; retrying until they succeed or their kernel timeout removes them")]
    public static partial void RemovalDeferred(this ILogger logger, int count);

    [LoggerMessage(4004, LogLevel.Information, "Forwarding removed {Removed} deferred mappings; {Remaining} still pending")]
    public static partial void DeferredRemovalsRetried(this ILogger logger, int removed, int remaining);

    [LoggerMessage(4005, LogLevel.Information, "Forwarding policy updated; removed {Removed} mappings the new policy does not allow")]
    public static partial void PolicyUpdated(this ILogger logger, int removed);

    [LoggerMessage(4006, LogLevel.Debug, "Forwarding: {Sessions} live sessions, {Mappings} mappings")]
    public static partial void Counts(this ILogger logger, int sessions, int mappings);

    [LoggerMessage(4007, LogLevel.Information, "Static forwards changed: {Removed} removed, {Added} added; {Live} live")]
    public static partial void StaticForwardsChanged(this ILogger logger, int removed, int added, int live);

    [LoggerMessage(4008, LogLevel.Warning, "Forwarding split a TCP/UDP pair: the other protocol's public port was held for {Protocol} by another owner, so this mapping got a different port")]
    public static partial void PairSplit(this ILogger logger, MappingProtocol protocol);

    // Counts only: which peer owns which address is the store's business, not the log's (DESIGN §3 inv. 8). The 4030s
    // are dedicated addresses'.
    [LoggerMessage(4030, LogLevel.Information, "Dedicated addresses in force: {Count}")]
    public static partial void DedicatedSet(this ILogger logger, int count);

    [LoggerMessage(4040, LogLevel.Information, "Audit: mapping created for peer {PeerId}: {Protocol} {PublicAddress}:{PublicPort} -> {TunnelAddress}:{InternalPort}, lease {LifetimeSeconds} s")]
    public static partial void AuditCreated(
        this ILogger logger, string peerId, MappingProtocol protocol, IPAddress publicAddress, ushort publicPort,
        IPAddress tunnelAddress, ushort internalPort, long lifetimeSeconds);

    [LoggerMessage(4041, LogLevel.Information, "Audit: mapping removed ({Reason}) for peer {PeerId}: {Protocol} {PublicAddress}:{PublicPort} -> {TunnelAddress}:{InternalPort}")]
    public static partial void AuditRemoved(
        this ILogger logger, string reason, string peerId, MappingProtocol protocol, IPAddress publicAddress,
        ushort publicPort, IPAddress tunnelAddress, ushort internalPort);

    [LoggerMessage(4043, LogLevel.Information, "Audit: pair split for peer {PeerId}: {Protocol} on {PublicAddress} got port {PublicPort} instead of its pair's {PairPort}")]
    public static partial void AuditPairSplit(
        this ILogger logger, string peerId, MappingProtocol protocol, IPAddress publicAddress, ushort pairPort, ushort publicPort);

    [LoggerMessage(4044, LogLevel.Information, "Audit: PEER mapping created for peer {PeerId}: {Protocol} {TunnelAddress}:{InternalPort} -> {RemoteAddress}:{RemotePort} leaves from {PublicAddress}:{PublicPort}, lease {LifetimeSeconds} s")]
    public static partial void AuditPeerCreated(
        this ILogger logger, string peerId, MappingProtocol protocol, IPAddress tunnelAddress, ushort internalPort,
        IPAddress remoteAddress, int remotePort, IPAddress publicAddress, ushort publicPort, long lifetimeSeconds);

    [LoggerMessage(4042, LogLevel.Warning, "Audit: table error while {Operation}: {Message}")]
    public static partial void AuditTableError(this ILogger logger, string operation, string message);
}
