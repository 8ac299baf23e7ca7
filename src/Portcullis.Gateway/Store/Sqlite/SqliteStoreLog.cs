using Microsoft.Extensions.Logging;

namespace Portcullis.Gateway.Store.Sqlite;

/// <summary>What the SQLite store logs, event ids 7000–7099 (the fleet's PostgreSQL store has 7100–7129).</summary>
internal static partial class SqliteStoreLog
{
    [LoggerMessage(7000, LogLevel.Information, "Store {Path}: schema version {Version}")]
    public static partial void Opened(ILogger logger, string path, int version);

    [LoggerMessage(7001, LogLevel.Information, "Store {Path}: copied to {Backup} before migrating")]
    public static partial void BackedUp(ILogger logger, string path, string backup);

    [LoggerMessage(7002, LogLevel.Information, "Store {Path}: migrated from schema version {From} to {To}")]
    public static partial void Migrated(ILogger logger, string path, int from, int to);
}
