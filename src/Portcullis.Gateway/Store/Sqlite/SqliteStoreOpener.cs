using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Portcullis.Gateway.Store.Sqlite;

/// <summary>
/// Opens the database and brings its schema up to date, touching nothing until it knows the file is sound:
/// 1. make the directory (0700) and the file (0600) when missing;
/// 2. read the schema version: a file that is not a database, or is locked, fails here, unchanged;
/// 3. refuse a schema newer than this build knows, then check the file's integrity;
/// 4. switch to WAL (readers never wait for the writer) with foreign keys on;
/// 5. copy the database to <c>PATH.bak-vOLD</c>, then run every pending migration and its version bump in one
///    transaction: the file ends at the latest version or stays at the old one, never in between;
/// 6. with nothing to migrate, take and release the write lock once, so a database another process holds
///    fails now rather than at the first change.
/// </summary>
internal static class SqliteStoreOpener
{
    private const int SqliteBusy = 5;
    private const int SqliteLocked = 6;
    private const int SqliteCorrupt = 11;
    private const int SqliteNotADatabase = 26;

    public static SqliteConnection Open(string path, IReadOnlyList<SqliteMigration> migrations, TimeSpan busyTimeout, ILogger logger)
    {
        CheckMigrations(migrations);
        try
        {
            SqliteStoreFile.Prepare(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StoreException($"Store {path} cannot be created: {e.Message}", e);
        }

        var connection = new SqliteConnection(ConnectionString(path, busyTimeout));
        var stage = "open";
        try
        {
            connection.Open();
            Execute(connection, null, $"PRAGMA busy_timeout = {(int)busyTimeout.TotalMilliseconds}");
            var version = Version(connection, null);
            var latest = migrations.Count == 0 ? 0 : migrations[^1].Version;
            if (version > latest)
                throw new StoreException(
                    $"Store {path} has schema version {version}, newer than this build knows ({latest}); it was left untouched. " +
                    "Run a newer Portcullis, or restore the copy made before the upgrade (the .bak-v files beside it).");
            var check = Convert.ToString(Scalar(connection, null, "PRAGMA quick_check"), CultureInfo.InvariantCulture);
            if (check != "ok")
                throw new StoreException($"Store {path} is damaged (integrity check: {check}); it was left untouched. Restore it from a backup.");
            var mode = Convert.ToString(Scalar(connection, null, "PRAGMA journal_mode = WAL"), CultureInfo.InvariantCulture);
            if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
                throw new StoreException($"Store {path} cannot use write-ahead logging (journal mode stays {mode}).");
            Execute(connection, null, "PRAGMA foreign_keys = ON");

            stage = "migrate";
            Migrate(connection, path, version, migrations, busyTimeout, logger);
            SqliteStoreLog.Opened(logger, path, latest);
            return connection;
        }
        catch (SqliteException e)
        {
            connection.Dispose();
            throw Explain(path, stage, e);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    public static string ConnectionString(string path, TimeSpan busyTimeout) => new SqliteConnectionStringBuilder
    {
        DataSource = path,
        Mode = SqliteOpenMode.ReadWrite,
        // One connection per store, closed on dispose: a pooled one would keep the file open (and locked) after.
        Pooling = false,
        // Microsoft.Data.Sqlite retries SQLITE_BUSY itself until this many seconds pass; 0 would mean forever.
        DefaultTimeout = Math.Max(1, (int)Math.Ceiling(busyTimeout.TotalSeconds)),
    }.ToString();

    private static void Migrate(
        SqliteConnection connection, string path, int version, IReadOnlyList<SqliteMigration> migrations, TimeSpan busyTimeout, ILogger logger)
    {
        var pending = new List<SqliteMigration>();
        foreach (var migration in migrations)
        {
            if (migration.Version > version)
                pending.Add(migration);
        }
        if (pending.Count == 0)
        {
            using var probe = connection.BeginTransaction(deferred: false);
            probe.Commit();
            return;
        }

        if (version > 0)
            Backup(connection, path, version, busyTimeout, logger);

        using var transaction = connection.BeginTransaction(deferred: false);
        if (Version(connection, transaction) != version)
            throw new StoreException($"Store {path} was migrated by another process while this one started; start again.");
        foreach (var migration in pending)
        {
            try
            {
                Execute(connection, transaction, migration.Sql);
                Execute(connection, transaction, $"PRAGMA user_version = {migration.Version}");
            }
            catch (SqliteException e)
            {
                transaction.Rollback();
                throw new StoreException(
                    $"Store {path}: migration {migration.Version} ({migration.Description}) failed: {e.Message}. " +
                    $"Nothing was changed; the database is still at schema version {version}.", e);
            }
        }
        transaction.Commit();
        SqliteStoreLog.Migrated(logger, path, version, pending[^1].Version);
    }

    // SQLite's online backup: a consistent copy page by page, taken under a read lock.
    private static void Backup(SqliteConnection connection, string path, int version, TimeSpan busyTimeout, ILogger logger)
    {
        var backupPath = SqliteStoreFile.BackupPath(path, version);
        try
        {
            SqliteStoreFile.CreateEmpty(backupPath);
            var builder = new SqliteConnectionStringBuilder(ConnectionString(backupPath, busyTimeout));
            using var destination = new SqliteConnection(builder.ToString());
            destination.Open();
            connection.BackupDatabase(destination);
        }
        catch (Exception e) when (e is SqliteException or IOException or UnauthorizedAccessException)
        {
            throw new StoreException($"Store {path}: the copy to {backupPath} before migrating failed ({e.Message}); nothing was migrated.", e);
        }
        SqliteStoreLog.BackedUp(logger, path, backupPath);
    }

    private static StoreException Explain(string path, string stage, SqliteException e) => e.SqliteErrorCode switch
    {
        SqliteNotADatabase or SqliteCorrupt => new StoreException(
            $"Store {path} is not a SQLite database or is damaged ({e.Message}); it was left untouched. " +
            "Restore it from a backup, or move it aside to start with an empty store.", e),
        SqliteBusy or SqliteLocked => new StoreException(
            $"Store {path} is locked by another process (is another gateway using it?); it was left untouched.", e),
        _ => new StoreException($"Store {path} cannot be opened ({stage}): {e.Message}", e),
    };

    private static int Version(SqliteConnection connection, SqliteTransaction? transaction) =>
        Convert.ToInt32(Scalar(connection, transaction, "PRAGMA user_version"), CultureInfo.InvariantCulture);

    private static object? Scalar(SqliteConnection connection, SqliteTransaction? transaction, string sql)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    private static void Execute(SqliteConnection connection, SqliteTransaction? transaction, string sql)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static void CheckMigrations(IReadOnlyList<SqliteMigration> migrations)
    {
        for (var i = 0; i < migrations.Count; i++)
        {
            if (migrations[i].Version != i + 1)
                throw new ArgumentException("Migrations must be numbered 1, 2, 3, … in order.", nameof(migrations));
        }
    }
}
