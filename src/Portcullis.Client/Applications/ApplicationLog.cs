using Microsoft.Extensions.Logging;

namespace Portcullis.Client.Applications;

/// <summary>The application updaters' log lines and their event ids (5150-5169). Never a password.</summary>
internal static partial class ApplicationLog
{
    [LoggerMessage(5150, LogLevel.Information, "{Application}: listening port set to {Port}")]
    public static partial void PortSet(this ILogger logger, string application, ushort port);

    [LoggerMessage(5151, LogLevel.Warning, "{Application}: could not set the listening port to {Port}: {Reason}; retrying in {Delay} s")]
    public static partial void PortSetFailed(this ILogger logger, string application, ushort port, string reason, double delay);

    [LoggerMessage(5153, LogLevel.Error, "{Application}: could not set the listening port to {Port}: {Reason}; not retried until the port changes")]
    public static partial void PortSetAbandoned(this ILogger logger, string application, ushort port, string reason);

    [LoggerMessage(5152, LogLevel.Warning, "{Application}: updater failed unexpectedly: {Reason}")]
    public static partial void UpdaterFailed(this ILogger logger, string application, string reason);
}
