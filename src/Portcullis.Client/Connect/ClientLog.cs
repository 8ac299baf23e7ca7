using Microsoft.Extensions.Logging;

namespace Portcullis.Client.Connect;

/// <summary>The client's log lines and their event ids (5000-5099). Never a key, never a resolver's old content.</summary>
internal static partial class ClientLog
{
    [LoggerMessage(5000, LogLevel.Warning, "{Warning}")]
    public static partial void ConfigWarning(this ILogger logger, string warning);

    [LoggerMessage(5001, LogLevel.Information, "Kill switch installed (table inet portcullis_killswitch): only {Endpoints} outside {Interface}")]
    public static partial void KillSwitchInstalled(this ILogger logger, string endpoints, string @interface);

    [LoggerMessage(5002, LogLevel.Information, "Tunnel {Interface} up: {Addresses}; {Routes}")]
    public static partial void TunnelUp(this ILogger logger, string @interface, string addresses, string routes);

    [LoggerMessage(5003, LogLevel.Information, "DNS set to {Servers}: {Where}")]
    public static partial void DnsSet(this ILogger logger, string servers, string where);

    [LoggerMessage(5004, LogLevel.Information, "Tunnel {Interface} down; {KillSwitch}")]
    public static partial void TunnelDown(this ILogger logger, string @interface, string killSwitch);

    [LoggerMessage(5005, LogLevel.Warning, "Forwarded port exposed outside the tunnel: {Exposure}")]
    public static partial void Exposed(this ILogger logger, string exposure);

    [LoggerMessage(5006, LogLevel.Warning, "Cleanup step failed: {Step}: {Reason}")]
    public static partial void CleanupFailed(this ILogger logger, string step, string reason);

    [LoggerMessage(5007, LogLevel.Information, "Handshake with {Endpoint}: session up")]
    public static partial void SessionUp(this ILogger logger, string endpoint);

    [LoggerMessage(5008, LogLevel.Information, "Kill switch: {Ports} accepted on {Interface} only")]
    public static partial void ForwardedPortsOpened(this ILogger logger, string ports, string @interface);

    [LoggerMessage(5009, LogLevel.Warning, "Kill switch: could not update the forwarded ports ({Reason}); the previous ones hold")]
    public static partial void ForwardedPortsFailed(this ILogger logger, string reason);

    [LoggerMessage(5010, LogLevel.Information, "Port {Port}/{Protocol} from the internet: {Verdict}")]
    public static partial void Reachability(this ILogger logger, ushort port, string protocol, string verdict);

    [LoggerMessage(5011, LogLevel.Information, "IPv6: [{Address}]:{Port}/{Protocol} forwarded to local port {InternalPort}")]
    public static partial void Ipv6Forwarded(this ILogger logger, string address, ushort port, string protocol, ushort internalPort);

    [LoggerMessage(5012, LogLevel.Warning, "Could not write the IPv6 port file {Path}: {Reason}")]
    public static partial void Ipv6PortFileFailed(this ILogger logger, string path, string reason);
}
