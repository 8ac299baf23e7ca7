using System.Net;
using Microsoft.Extensions.Logging;

namespace Portcullis.Gateway.Admin.Http;

/// <summary>What the admin API logs, event ids 7500–7519. Never a token, never a key; failed logins by remote address so they can be seen.</summary>
internal static partial class AdminServerLog
{
    [LoggerMessage(7500, LogLevel.Information, "Admin API token file {TokenFile}")]
    public static partial void TokenFile(ILogger logger, string tokenFile);

    [LoggerMessage(7501, LogLevel.Information, "Admin token file {TokenFile} created (mode 0600)")]
    public static partial void TokenCreated(ILogger logger, string tokenFile);

    [LoggerMessage(7502, LogLevel.Warning, "Admin API listens on {Endpoint}, not a loopback address: its token travels unencrypted, so reach it only over a network you trust (or the tunnel)")]
    public static partial void NotLoopback(ILogger logger, IPEndPoint endpoint);

    [LoggerMessage(7503, LogLevel.Warning, "Admin API: request from {Remote} to {Path} refused, no valid token")]
    public static partial void Unauthorized(ILogger logger, string remote, string path);

    [LoggerMessage(7504, LogLevel.Error, "Admin API: {Method} {Path} failed")]
    public static partial void RequestFailed(ILogger logger, string method, string path, Exception exception);

    [LoggerMessage(7505, LogLevel.Information, "Admin API stopped")]
    public static partial void Stopped(ILogger logger);
}
