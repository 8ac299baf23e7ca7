using Microsoft.Extensions.Logging;

namespace Portcullis.Client.PortForwarding;

/// <summary>The port keeper's log lines and their event ids (5100-5149).</summary>
internal static partial class PortKeeperLog
{
    [LoggerMessage(5100, LogLevel.Information, "Port {ExternalPort}/{Protocol} forwarded to local port {InternalPort} over {Wire}, lease {Lifetime} s")]
    public static partial void Mapped(this ILogger logger, ushort externalPort, string protocol, ushort internalPort, string wire, uint lifetime);

    [LoggerMessage(5101, LogLevel.Debug, "Lease for port {ExternalPort}/{Protocol} refreshed for {Lifetime} s")]
    public static partial void Refreshed(this ILogger logger, ushort externalPort, string protocol, uint lifetime);

    [LoggerMessage(5102, LogLevel.Warning, "The gateway refused the {Protocol} mapping over {Wire} (result {Result}); retrying in {Delay} s")]
    public static partial void Refused(this ILogger logger, string protocol, string wire, int result, double delay);

    [LoggerMessage(5103, LogLevel.Warning, "No answer from the gateway for the {Protocol} mapping; retrying in {Delay} s")]
    public static partial void NoAnswer(this ILogger logger, string protocol, double delay);

    [LoggerMessage(5104, LogLevel.Warning, "The gateway lost its mapping state ({Reason}); mapping again")]
    public static partial void StateLost(this ILogger logger, string reason);

    [LoggerMessage(5105, LogLevel.Information, "Mapping {ExternalPort}/{Protocol} deleted at the gateway")]
    public static partial void Deleted(this ILogger logger, ushort externalPort, string protocol);

    [LoggerMessage(5106, LogLevel.Warning, "Could not delete the {Protocol} mapping at the gateway: {Reason}")]
    public static partial void DeleteFailed(this ILogger logger, string protocol, string reason);

    [LoggerMessage(5107, LogLevel.Warning, "Could not write the port file {Path}: {Reason}")]
    public static partial void PortFileFailed(this ILogger logger, string path, string reason);

    [LoggerMessage(5108, LogLevel.Information, "--on-port-change: {Line}")]
    public static partial void HookOutput(this ILogger logger, string line);

    [LoggerMessage(5109, LogLevel.Warning, "--on-port-change failed: {Reason}")]
    public static partial void HookFailed(this ILogger logger, string reason);

    [LoggerMessage(5110, LogLevel.Warning, "--on-port-change still running after {Seconds} s: killed")]
    public static partial void HookTimedOut(this ILogger logger, double seconds);

    [LoggerMessage(5111, LogLevel.Warning, "Cannot listen for gateway announcements on UDP {Port}: {Reason}")]
    public static partial void AnnounceListenFailed(this ILogger logger, int port, string reason);

    [LoggerMessage(5112, LogLevel.Warning, "Port keeper failed unexpectedly: {Reason}; retrying")]
    public static partial void LoopFailed(this ILogger logger, string reason);

    [LoggerMessage(5113, LogLevel.Warning, "UDP got external port {UdpPort}, TCP {TcpPort}: the published port is the TCP one")]
    public static partial void PortsDiffer(this ILogger logger, ushort udpPort, ushort tcpPort);
}
