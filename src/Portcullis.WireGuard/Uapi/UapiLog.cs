using Microsoft.Extensions.Logging;

namespace Portcullis.WireGuard.Uapi;

/// <summary>UAPI log messages, event ids 300–319. None of them carries a key or a raw line.</summary>
internal static partial class UapiLog
{
    [LoggerMessage(300, LogLevel.Information, "UAPI listening on {SocketPath}")]
    public static partial void Listening(this ILogger logger, string socketPath);

    [LoggerMessage(301, LogLevel.Information, "UAPI stopped; removed {SocketPath}")]
    public static partial void Stopped(this ILogger logger, string socketPath);

    [LoggerMessage(302, LogLevel.Information, "UAPI removed stale socket {SocketPath}")]
    public static partial void RemovedStaleSocket(this ILogger logger, string socketPath);

    [LoggerMessage(303, LogLevel.Warning, "UAPI set rejected ({Errno}): {Reason}")]
    public static partial void SetRejected(this ILogger logger, int errno, string reason);

    [LoggerMessage(304, LogLevel.Warning, "UAPI device refused the change ({Errno}): {Reason}")]
    public static partial void ApplyRefused(this ILogger logger, int errno, string reason);

    // Only the type: a careless device could put anything in its exception message.
    [LoggerMessage(305, LogLevel.Error, "UAPI device failed with {ExceptionType}")]
    public static partial void DeviceFailed(this ILogger logger, string exceptionType);

    [LoggerMessage(306, LogLevel.Warning, "UAPI closed a connection: {Reason}")]
    public static partial void ConnectionRefused(this ILogger logger, string reason);

    [LoggerMessage(307, LogLevel.Warning, "UAPI at its limit of {MaxConnections} connections, each busy with a request; closed a new one")]
    public static partial void ConnectionLimit(this ILogger logger, int maxConnections);

    [LoggerMessage(311, LogLevel.Warning, "UAPI at its limit of {MaxConnections} connections; closed the one waiting longest for its client ({Evicted} so far)")]
    public static partial void ConnectionEvicted(this ILogger logger, int maxConnections, long evicted);

    [LoggerMessage(308, LogLevel.Warning, "UAPI accept failed")]
    public static partial void AcceptFailed(this ILogger logger, Exception exception);

    [LoggerMessage(310, LogLevel.Error, "UAPI connection failed with {ExceptionType}")]
    public static partial void ConnectionFailed(this ILogger logger, string exceptionType);

    [LoggerMessage(309, LogLevel.Debug, "UAPI applied a set with {PeerCount} peer blocks")]
    public static partial void Applied(this ILogger logger, int peerCount);
}
