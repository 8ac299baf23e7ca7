using Microsoft.Extensions.Logging;

namespace Portcullis.Gateway.Kernel;

/// <summary>
/// Log events of <see cref="NftForwardingTable"/>. Privacy (DESIGN §3 inv. 8): no line names a peer, a public port or
/// a remote address; counts only.
/// </summary>
internal static partial class NftForwardingTableLog
{
    [LoggerMessage(EventId = 3100, Level = LogLevel.Information,
        Message = "Forwarding table installed (tunnel {TunnelInterface}, public {PublicInterface})")]
    public static partial void Installed(ILogger logger, string tunnelInterface, string publicInterface);

    [LoggerMessage(EventId = 3101, Level = LogLevel.Debug, Message = "Forwarding map updated: {Removed} removed, {Added} added")]
    public static partial void Updated(ILogger logger, int removed, int added);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Information, Message = "Forwarding table removed")]
    public static partial void Uninstalled(ILogger logger);

    [LoggerMessage(EventId = 3103, Level = LogLevel.Warning,
        Message = "Could not delete the tracked flows of a removed mapping; they end when conntrack times them out: {Error}")]
    public static partial void ConntrackFailed(ILogger logger, string error);

    [LoggerMessage(EventId = 3104, Level = LogLevel.Debug, Message = "Ended {Flows} tracked flows of {Mappings} removed mappings (found {How})")]
    public static partial void FlowsEnded(ILogger logger, int mappings, int flows, string how);

    [LoggerMessage(EventId = 3106, Level = LogLevel.Debug, Message = "Dedicated addresses set: {Routes} routes")]
    public static partial void DedicatedSet(ILogger logger, int routes);

    [LoggerMessage(EventId = 3105, Level = LogLevel.Warning, Message = "Conntrack cleanup: {Message}")]
    public static partial void ConntrackFallback(ILogger logger, string message);

    [LoggerMessage(EventId = 3107, Level = LogLevel.Warning,
        Message = "Conntrack events unavailable ({Reason}); removed mappings' flows are found by table dumps, off the answer path")]
    public static partial void ConntrackEventsUnavailable(ILogger logger, string reason);

    [LoggerMessage(EventId = 3108, Level = LogLevel.Warning,
        Message = "Conntrack events were lost (socket overrun); the flow index was rebuilt from a table dump ({Flows} forwarded flows)")]
    public static partial void ConntrackEventsOverrun(ILogger logger, int flows);

    [LoggerMessage(EventId = 3109, Level = LogLevel.Warning,
        Message = "Could not rebuild the flow index from a table dump; removed mappings' flows are found by dumps until it succeeds: {Error}")]
    public static partial void ConntrackRebuildFailed(ILogger logger, string error);
}
