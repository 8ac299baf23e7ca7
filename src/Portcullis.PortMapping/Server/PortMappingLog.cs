using System.Net;
using Microsoft.Extensions.Logging;

namespace Portcullis.PortMapping.Server;

/// <summary>
/// Port-mapping log messages, event ids 400–419. Only the audit messages (410–411, written when
/// <see cref="PortMappingServerOptions.AuditLog"/> is on) name a client next to a port.
/// </summary>
internal static partial class PortMappingLog
{
    [LoggerMessage(400, LogLevel.Information, "NAT-PMP/PCP server listening on {EndPoint} (PCP {PcpEnabled})")]
    public static partial void Listening(this ILogger logger, IPEndPoint endPoint, bool pcpEnabled);

    [LoggerMessage(401, LogLevel.Information, "NAT-PMP/PCP server stopped")]
    public static partial void Stopped(this ILogger logger);

    [LoggerMessage(402, LogLevel.Warning, "NAT-PMP/PCP receive failed: {Error}")]
    public static partial void ReceiveFailed(this ILogger logger, string error);

    [LoggerMessage(403, LogLevel.Warning, "NAT-PMP/PCP send failed: {Error}")]
    public static partial void SendFailed(this ILogger logger, string error);

    // Only the type: the policy layer's message could carry anything.
    [LoggerMessage(404, LogLevel.Error, "The port-mapping authority failed with {ExceptionType}; answered as a network failure")]
    public static partial void AuthorityFailed(this ILogger logger, string exceptionType);

    [LoggerMessage(405, LogLevel.Debug, "Dropped a {Protocol} datagram of {Length} bytes")]
    public static partial void Dropped(this ILogger logger, string protocol, int length);

    [LoggerMessage(406, LogLevel.Debug, "Answered a malformed {Protocol} datagram with result {Result}")]
    public static partial void Rejected(this ILogger logger, string protocol, int result);

    [LoggerMessage(407, LogLevel.Information, "Announced the epoch to {Count} clients")]
    public static partial void Announced(this ILogger logger, int count);

    [LoggerMessage(408, LogLevel.Error, "Handling a NAT-PMP/PCP datagram failed with {ExceptionType}; serving on")]
    public static partial void LoopFailed(this ILogger logger, string exceptionType);

    [LoggerMessage(410, LogLevel.Information, "Audit: {Via} {Protocol} {ExternalAddress}:{ExternalPort} -> {Client}:{InternalPort} for {LifetimeSeconds} s")]
    public static partial void AuditMapped(
        this ILogger logger, string via, MappingProtocol protocol, IPAddress? externalAddress, ushort externalPort,
        IPAddress client, ushort internalPort, uint lifetimeSeconds);

    [LoggerMessage(411, LogLevel.Information, "Audit: {Via} deleted {Protocol} mappings of {Client} (internal port {InternalPort}, 0 = all)")]
    public static partial void AuditDeleted(this ILogger logger, string via, MappingProtocol protocol, IPAddress client, ushort internalPort);
}
