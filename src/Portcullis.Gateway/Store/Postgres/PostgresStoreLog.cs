using Microsoft.Extensions.Logging;

namespace Portcullis.Gateway.Store.Postgres;

/// <summary>What the fleet store logs, event ids 7100–7129. The database by its display URL, never a password.</summary>
internal static partial class PostgresStoreLog
{
    [LoggerMessage(7100, LogLevel.Information, "Store {Display}: schema version {Version}")]
    public static partial void Opened(ILogger logger, string display, int version);

    [LoggerMessage(7101, LogLevel.Information, "Store {Display}: migrated from schema version {From} to {To}")]
    public static partial void Migrated(ILogger logger, string display, int from, int to);

    [LoggerMessage(7102, LogLevel.Warning, "Store {Display}: schema version {Version} is newer than this build's ({Known}) and still readable by it; upgrade this gateway")]
    public static partial void NewerCompatible(ILogger logger, string display, int version, int known);

    [LoggerMessage(7103, LogLevel.Debug, "Store {Display}: retrying after a serialization failure ({Attempt})")]
    public static partial void Retrying(ILogger logger, string display, int attempt);

    [LoggerMessage(7110, LogLevel.Information, "Store {Display}: listening for fleet changes")]
    public static partial void Listening(ILogger logger, string display);

    [LoggerMessage(7111, LogLevel.Warning, "Store {Display}: lost the database ({Reason}); serving what this gateway holds, retrying in {Delay} ms")]
    public static partial void Lost(ILogger logger, string display, string reason, long delay);

    [LoggerMessage(7113, LogLevel.Error, "Store {Display}: applying fleet changes failed")]
    public static partial void ApplyFailed(ILogger logger, string display, Exception exception);

    [LoggerMessage(7114, LogLevel.Error, "Store {Display}: another running gateway is named {Name}; gateway names must be unique in a fleet")]
    public static partial void NameTaken(ILogger logger, string display, string name);
}
