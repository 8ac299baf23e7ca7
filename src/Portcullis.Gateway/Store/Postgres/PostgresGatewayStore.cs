using System.Data;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Portcullis.Gateway.Store.Postgres;

/// <summary>
/// <see cref="IGatewayStore"/> on a PostgreSQL database that several gateways share (<c>[store] url</c>). Pooled
/// connections (Npgsql), one transaction per method. Every write that checks before it writes (a free address, a
/// clash) first takes one transaction-scoped advisory lock, <see cref="WriteLock"/>, so concurrent writers from any
/// gateway queue instead of racing; unique constraints stay the last word (23505 becomes
/// <see cref="StoreConflictException"/>), and serialization failures and deadlocks are retried. A database that
/// cannot be reached throws <see cref="StoreException"/> at once (the admin API answers 503).
/// </summary>
public sealed partial class PostgresGatewayStore : IGatewayStore
{
    /// <summary>pg_advisory_xact_lock key every checked write takes ("portcullis writes").</summary>
    internal const long WriteLock = 0x706F7274_00000002;

    private const int MaxAttempts = 5;

    private readonly NpgsqlDataSource _source;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private int _disposed;

    private PostgresGatewayStore(NpgsqlDataSource source, PostgresUrl url, string gateway, int schemaVersion, TimeProvider time, ILogger logger)
    {
        _source = source;
        Url = url;
        Gateway = gateway;
        SchemaVersion = schemaVersion;
        _time = time;
        _logger = logger;
    }

    /// <summary>Where the database is (the display form names no password).</summary>
    public PostgresUrl Url { get; }

    public string Display => Url.Display;

    public string Gateway { get; }

    /// <summary>The database's schema version when this store opened it.</summary>
    public int SchemaVersion { get; }

    internal NpgsqlDataSource Source => _source;

    /// <summary>
    /// Connects, migrates (under the migration lock) and returns the store. <paramref name="gateway"/> stamps
    /// dedicated addresses and presence; empty for a tool. Throws <see cref="StoreException"/> naming the database
    /// (its display URL) when it cannot be reached or has a schema this build refuses.
    /// </summary>
    public static Task<PostgresGatewayStore> OpenAsync(
        PostgresUrl url, string gateway, ILogger? logger = null, CancellationToken cancellationToken = default) =>
        OpenAsync(url, gateway, PostgresMigrations.All, TimeProvider.System, logger, cancellationToken);

    internal static async Task<PostgresGatewayStore> OpenAsync(
        PostgresUrl url, string gateway, IReadOnlyList<PostgresMigration> migrations, TimeProvider time, ILogger? logger,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(gateway);
        logger ??= NullLogger.Instance;
        var source = new NpgsqlDataSourceBuilder(url.Settings.ConnectionString).Build();
        try
        {
            var version = await PostgresSchema.MigrateAsync(source, url.Display, migrations, logger, cancellationToken).ConfigureAwait(false);
            return new PostgresGatewayStore(source, url, gateway, version, time, logger);
        }
        catch (Exception e) when (e is NpgsqlException or SocketException or TimeoutException)
        {
            await source.DisposeAsync().ConfigureAwait(false);
            throw Unreachable(url.Display, e);
        }
        catch
        {
            await source.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        await _source.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Runs <paramref name="work"/> in a transaction (committed when it returns), retrying it whole on a
    /// serialization failure or a deadlock. <paramref name="locked"/> takes <see cref="WriteLock"/> first.
    /// </summary>
    private async Task<T> RunAsync<T>(Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> work, bool locked, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var connection = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                // READ COMMITTED, said here (Npgsql also sends it for an unspecified level), whatever the database's
                // default: a checked write must see every write committed before it got the write lock; under
                // REPEATABLE READ its snapshot would be older than the lock and a fleet-wide clash could slip past.
                await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken)
                    .ConfigureAwait(false);
                if (locked)
                    await PostgresRows.ExecuteAsync(connection, transaction, $"SELECT pg_advisory_xact_lock({WriteLock})", cancellationToken).ConfigureAwait(false);
                var result = await work(connection, transaction).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return result;
            }
            catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected
                                              && attempt < MaxAttempts)
            {
                PostgresStoreLog.Retrying(_logger, Display, attempt);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                throw Conflict(e);
            }
            catch (PostgresException e)
            {
                throw new StoreException($"Store {Display}: {e.MessageText}", e);
            }
            catch (Exception e) when (e is NpgsqlException or SocketException or TimeoutException)
            {
                throw Unreachable(Display, e);
            }
            catch (Exception e) when (e is FormatException or InvalidCastException or OverflowException)
            {
                throw new StoreException($"Store {Display} holds a row this build cannot read ({e.Message}).", e);
            }
        }
    }

    private Task<T> ReadAsync<T>(Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> work, CancellationToken cancellationToken) =>
        RunAsync(work, locked: false, cancellationToken);

    private Task<T> WriteAsync<T>(Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> work, CancellationToken cancellationToken) =>
        RunAsync(work, locked: true, cancellationToken);

    internal static StoreException Unreachable(string display, Exception e) =>
        new($"Store {display}: the database cannot be reached ({Reason(e)}); nothing was changed.", e);

    internal static string Reason(Exception e) => e switch
    {
        PostgresException p => p.MessageText,
        NpgsqlException { InnerException: SocketException s } => s.Message,
        NpgsqlException { InnerException: TimeoutException } => "timed out",
        NpgsqlException { InnerException: IOException io } => io.Message,
        _ => e.Message,
    };

    // A unique constraint clashed after the checks passed: only a writer outside the lock can cause it.
    private StoreConflictException Conflict(PostgresException e)
    {
        var (conflict, what) = e.ConstraintName switch
        {
            "peers_name_key" => (StoreConflict.PeerName, "peer name"),
            "peers_public_key_key" => (StoreConflict.PeerPublicKey, "public key"),
            "peers_tunnel_address_key" => (StoreConflict.TunnelAddress, "tunnel address"),
            "static_forwards_pkey" => (StoreConflict.StaticForward, "static forward"),
            "dedicated_addresses_pkey" => (StoreConflict.DedicatedAddress, "dedicated address"),
            _ => (StoreConflict.PeerName, e.ConstraintName ?? "unique value"),
        };
        return new StoreConflictException(conflict, e.ConstraintName ?? "", $"Store {Display}: that {what} is taken.");
    }

    private DateTimeOffset Now() => DateTimeOffset.FromUnixTimeMilliseconds(_time.GetUtcNow().ToUnixTimeMilliseconds());

    // Opaque and unguessable; the kernel's element comments carry it, so it must not say who the peer is.
    private static string NewId() => Guid.NewGuid().ToString("N");
}
