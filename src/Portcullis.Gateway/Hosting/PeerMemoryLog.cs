using Microsoft.Extensions.Logging;

namespace Portcullis.Gateway.Hosting;

/// <summary>What <see cref="PeerMemory"/> logs, event ids 6030–6039: counts and failures, never a key, an endpoint or a timestamp.</summary>
internal static partial class PeerMemoryLog
{
    [LoggerMessage(6030, LogLevel.Information, "Replay floors of {Count} keys restored from the store")]
    public static partial void FloorsRestored(ILogger logger, int count);

    [LoggerMessage(6031, LogLevel.Information, "Handshakes started with {Count} peers remembered from before a crash ({Skipped} lines unreadable)")]
    public static partial void EndpointsRestored(ILogger logger, int count, int skipped);

    [LoggerMessage(6032, LogLevel.Warning, "Keeping the peers' endpoints or replay floors failed; retried on the next round")]
    public static partial void KeepFailed(ILogger logger, Exception exception);

    [LoggerMessage(6033, LogLevel.Warning, "The remembered endpoints cannot be read; no peer is called back")]
    public static partial void RestoreFailed(ILogger logger, Exception exception);
}
