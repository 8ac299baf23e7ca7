using Microsoft.Extensions.Logging;
using Npgsql;

namespace Portcullis.Gateway.Store.Postgres;

/// <summary>
/// Brings the fleet database's schema up to date at open, safely when several gateways start at once:
/// 1. one transaction takes a transaction-scoped advisory lock (<see cref="MigrationLock"/>): a second gateway
///    starting at the same moment waits here, then finds the schema already current;
/// 2. the version row (<c>portcullis_schema</c>) is read; a database newer than this build is refused unless its
///    <c>compatible_from</c> says builds of this version may still run (a rolling upgrade, see
///    <see cref="PostgresMigration.CompatibleFrom"/>);
/// 3. every pending step and the new version row are written in that same transaction: the database ends at the
///    latest version or stays where it was, never in between (PostgreSQL's DDL is transactional).
/// </summary>
internal static class PostgresSchema
{
    /// <summary>pg_advisory_xact_lock key for migrations ("portcullis schema").</summary>
    public const long MigrationLock = 0x706F7274_00000001;

    public static async Task<int> MigrateAsync(
        NpgsqlDataSource source, string display, IReadOnlyList<PostgresMigration> migrations, ILogger logger, CancellationToken cancellationToken)
    {
        for (var i = 0; i < migrations.Count; i++)
        {
            if (migrations[i].Version != i + 1)
                throw new ArgumentException("Migrations must be numbered 1, 2, 3, … in order.", nameof(migrations));
        }
        var latest = migrations.Count == 0 ? 0 : migrations[^1].Version;

        await using var connection = await source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, transaction, $"SELECT pg_advisory_xact_lock({MigrationLock})", cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, transaction, """
            CREATE TABLE IF NOT EXISTS portcullis_schema (
                version         integer     NOT NULL,
                compatible_from integer     NOT NULL,
                migrated_utc    timestamptz NOT NULL DEFAULT now()
            )
            """, cancellationToken).ConfigureAwait(false);

        var (version, compatibleFrom) = await ReadVersionAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
        if (version > latest)
        {
            if (compatibleFrom > latest)
            {
                throw new StoreException(
                    $"Store {display} has schema version {version}, newer than this build knows ({latest}), and builds before " +
                    $"schema {compatibleFrom} cannot use it; nothing was changed. Run a newer Portcullis on this gateway.");
            }
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            PostgresStoreLog.NewerCompatible(logger, display, version, latest);
            return version;
        }

        var pending = migrations.Where(m => m.Version > version).ToList();
        if (pending.Count == 0)
        {
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            PostgresStoreLog.Opened(logger, display, version);
            return version;
        }
        foreach (var migration in pending)
        {
            try
            {
                await ExecuteAsync(connection, transaction, migration.Sql, cancellationToken).ConfigureAwait(false);
            }
            catch (PostgresException e)
            {
                throw new StoreException(
                    $"Store {display}: migration {migration.Version} ({migration.Description}) failed: {e.MessageText}. " +
                    $"Nothing was changed; the database is still at schema version {version}.", e);
            }
        }
        var last = pending[^1];
        var compatible = pending.Max(m => m.CompatibleFrom);
        await ExecuteAsync(connection, transaction, "DELETE FROM portcullis_schema", cancellationToken).ConfigureAwait(false);
        await using (var insert = new NpgsqlCommand(
            "INSERT INTO portcullis_schema (version, compatible_from) VALUES ($1, $2)", connection, transaction))
        {
            insert.Parameters.Add(new NpgsqlParameter { Value = last.Version });
            insert.Parameters.Add(new NpgsqlParameter { Value = compatible });
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        PostgresStoreLog.Migrated(logger, display, version, last.Version);
        return last.Version;
    }

    private static async Task<(int Version, int CompatibleFrom)> ReadVersionAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT version, compatible_from FROM portcullis_schema", connection, transaction);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? (reader.GetInt32(0), reader.GetInt32(1)) : (0, 0);
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
