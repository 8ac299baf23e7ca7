using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Portcullis.Gateway.Store.Sqlite;

/// <summary>
/// <see cref="IGatewayStore"/> on one SQLite file (<c>store.path</c>): WAL, foreign keys, a busy timeout, schema
/// migrations at open (<see cref="SqliteStoreOpener"/>). One connection, one operation at a time: the store sees
/// a few admin changes a minute, and SQLite has one writer anyway. Every write runs in a <c>BEGIN IMMEDIATE</c>
/// transaction, so checking for a clash and writing cannot be split by another writer.
/// </summary>
public sealed partial class SqliteGatewayStore : IGatewayStore, IReplayFloorStore
{
    /// <summary>How long an operation waits for another process's lock before failing. Defaults to 5 s.</summary>
    public static readonly TimeSpan DefaultBusyTimeout = TimeSpan.FromSeconds(5);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly TimeProvider _time;
    private SqliteConnection? _connection;

    private SqliteGatewayStore(SqliteConnection connection, string path, TimeProvider time)
    {
        _connection = connection;
        Path = path;
        _time = time;
    }

    /// <summary>The database file, as a full path.</summary>
    public string Path { get; }

    /// <summary>One box: no gateway name.</summary>
    public string Gateway => "";

    /// <summary>
    /// Opens (creating when missing) and migrates the store at <paramref name="path"/>. Throws
    /// <see cref="StoreException"/>, naming the path, for a corrupt or locked file, a newer schema or a failed
    /// migration; the file is then left as it was.
    /// </summary>
    public static Task<SqliteGatewayStore> OpenAsync(string path, ILogger? logger = null, CancellationToken cancellationToken = default) =>
        OpenAsync(path, SqliteMigrations.All, DefaultBusyTimeout, TimeProvider.System, logger, cancellationToken);

    /// <summary>As <see cref="OpenAsync(string, ILogger?, CancellationToken)"/>, its timestamps read from <paramref name="time"/>.</summary>
    public static Task<SqliteGatewayStore> OpenAsync(string path, TimeProvider time, ILogger? logger, CancellationToken cancellationToken) =>
        OpenAsync(path, SqliteMigrations.All, DefaultBusyTimeout, time, logger, cancellationToken);

    /// <summary>Tests inject the schema steps (a v1 database, a failing step), the lock wait and the clock.</summary>
    internal static Task<SqliteGatewayStore> OpenAsync(
        string path,
        IReadOnlyList<SqliteMigration> migrations,
        TimeSpan busyTimeout,
        TimeProvider time,
        ILogger? logger,
        CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var fullPath = System.IO.Path.GetFullPath(path);
        // Opening may wait for a lock and copy the file: off the caller's thread.
        return Task.Run(
            () => new SqliteGatewayStore(
                SqliteStoreOpener.Open(fullPath, migrations, busyTimeout, logger ?? NullLogger.Instance), fullPath, time),
            cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            _connection?.Dispose();
            _connection = null;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<T> RunAsync<T>(Func<SqliteConnection, T> work, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_connection is null, this);
            return work(_connection);
        }
        catch (SqliteException e)
        {
            throw new StoreException($"Store {Path}: {e.Message}", e);
        }
        catch (Exception e) when (e is FormatException or InvalidCastException or OverflowException)
        {
            throw new StoreException($"Store {Path} holds a row this build cannot read ({e.Message}).", e);
        }
        finally
        {
            _gate.Release();
        }
    }

    private DateTimeOffset Now() => DateTimeOffset.FromUnixTimeMilliseconds(_time.GetUtcNow().ToUnixTimeMilliseconds());

    // Opaque and unguessable; the kernel's element comments carry it, so it must not say who the peer is.
    private static string NewId() => Guid.NewGuid().ToString("N");
}
