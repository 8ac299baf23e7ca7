using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Npgsql;
using Portcullis.Gateway.Fleet;

namespace Portcullis.Gateway.Store.Postgres;

// The fleet's changes reach a gateway through LISTEN/NOTIFY on one connection of its own:
//  1. connect; take the session advisory lock of this gateway's name (a second running gateway with the same name is
//     refused); LISTEN portcullis_changes
//  2. the first time: hand over nothing yet — the host reads the tables after this, so no change falls between the
//     read and the first notification. After a reconnect: everything (notifications may have been missed), before
//     any notification is applied
//  3. wait for notifications; a burst is gathered for a few milliseconds and applied as one batch (the peers it
//     names, or everything when it names too many); an idle connection is checked every few seconds with a query,
//     so a database that went away silently is noticed
//  4. on any failure: Connected turns false (the operations answer 503 at once), wait with backoff (0.25 s doubling
//     to 10 s), go to 1
// A batch is applied by the owner's callback, one at a time, never concurrently with another.

/// <summary>The shared store's change notifications for one gateway, with reconnection and catch-up.</summary>
public sealed class PostgresChangeFeed : IAsyncDisposable
{
    private static readonly TimeSpan IdleCheck = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan Gather = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(10);
    private const int MaxGathered = 5000;

    private readonly PostgresGatewayStore _store;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<string> _pending = [];
    private Func<FleetChanges, CancellationToken, Task>? _apply;
    private NpgsqlConnection? _connection;
    private Task? _loop;
    private volatile string? _lost;
    private bool _resyncOwed;

    public PostgresChangeFeed(PostgresGatewayStore store, ILogger logger)
    {
        _store = store;
        _logger = logger;
    }

    /// <summary>Why the database is away (for a 503's reason), or null while listening.</summary>
    public string? Lost => _lost;

    /// <summary>Raised after a reconnect's catch-up was applied (the lab waits for its log line; the host for presence).</summary>
    public event Action? CaughtUp;

    /// <summary>
    /// Connects and listens; notifications are held until <see cref="Attach"/>. Throws <see cref="StoreException"/>
    /// when the database cannot be reached or another running gateway has this gateway's name.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            _connection = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is NpgsqlException or IOException or TimeoutException)
        {
            throw PostgresGatewayStore.Unreachable(_store.Display, e);
        }
    }

    /// <summary>From now on, changes go to <paramref name="apply"/>; those held since <see cref="StartAsync"/> first.</summary>
    public void Attach(Func<FleetChanges, CancellationToken, Task> apply)
    {
        _apply = apply;
        _loop = Task.Run(() => RunAsync(_stop.Token));
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            try
            {
                await _loop.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
        if (_connection is not null)
            await _connection.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task RunAsync(CancellationToken stop)
    {
        var backoff = FirstBackoff;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                if (_connection is null)
                {
                    _store.Source.Clear(); // pooled connections to a restarted server are dead
                    _connection = await ConnectAsync(stop).ConfigureAwait(false);
                    _resyncOwed = true;
                }
                if (_resyncOwed)
                {
                    await ApplyAsync(FleetChanges.All, stop).ConfigureAwait(false);
                    _resyncOwed = false;
                    _lost = null;
                    CaughtUp?.Invoke();
                }
                _lost = null;
                backoff = FirstBackoff;
                await ListenAsync(_connection, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                _lost = PostgresGatewayStore.Reason(e);
                _resyncOwed = true;
                PostgresStoreLog.Lost(_logger, _store.Display, _lost, (long)backoff.TotalMilliseconds);
                if (_connection is not null)
                {
                    await _connection.DisposeAsync().ConfigureAwait(false);
                    _connection = null;
                }
                try
                {
                    await Task.Delay(backoff, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                backoff = TimeSpan.FromTicks(Math.Min(MaxBackoff.Ticks, backoff.Ticks * 2));
            }
        }
    }

    private async Task ListenAsync(NpgsqlConnection connection, CancellationToken stop)
    {
        // Held notifications (received while the host started) first.
        await ApplyPendingAsync(stop).ConfigureAwait(false);
        while (true)
        {
            if (!await connection.WaitAsync(IdleCheck, stop).ConfigureAwait(false))
            {
                await using var check = new NpgsqlCommand("SELECT 1", connection) { CommandTimeout = (int)IdleCheck.TotalSeconds + 2 };
                await check.ExecuteScalarAsync(stop).ConfigureAwait(false);
                continue;
            }
            while (Count() < MaxGathered && await connection.WaitAsync(Gather, stop).ConfigureAwait(false))
            {
            }
            await ApplyPendingAsync(stop).ConfigureAwait(false);
        }
    }

    private async Task ApplyPendingAsync(CancellationToken stop)
    {
        List<string> payloads;
        lock (_pending)
        {
            if (_pending.Count == 0)
                return;
            payloads = [.. _pending];
            _pending.Clear();
        }
        await ApplyAsync(FleetChanges.FromPayloads(payloads), stop).ConfigureAwait(false);
    }

    // A failure to apply (the database went away mid-read) owes a full catch-up, whatever the batch was.
    private async Task ApplyAsync(FleetChanges changes, CancellationToken stop)
    {
        if (changes.IsEmpty || _apply is null)
            return;
        try
        {
            await _apply(changes, stop).ConfigureAwait(false);
        }
        catch (Exception e) when (e is StoreException && !stop.IsCancellationRequested)
        {
            _resyncOwed = true;
            throw;
        }
        catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
        {
            PostgresStoreLog.ApplyFailed(_logger, _store.Display, e);
        }
    }

    private int Count()
    {
        lock (_pending)
            return _pending.Count;
    }

    private async Task<NpgsqlConnection> ConnectAsync(CancellationToken cancellationToken)
    {
        // Its own connection, never pooled: LISTEN and the name lock belong to this session.
        var settings = new NpgsqlConnectionStringBuilder(_store.Url.Settings.ConnectionString) { Pooling = false };
        var connection = new NpgsqlConnection(settings.ConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            connection.Notification += (_, e) =>
            {
                lock (_pending)
                    _pending.Add(e.Payload);
            };
            if (_store.Gateway.Length > 0)
            {
                await using var claim = new NpgsqlCommand("SELECT pg_try_advisory_lock($1)", connection);
                claim.Parameters.Add(new NpgsqlParameter { Value = NameLock(_store.Gateway) });
                if (await claim.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not true)
                {
                    PostgresStoreLog.NameTaken(_logger, _store.Display, _store.Gateway);
                    throw new StoreException(
                        $"Store {_store.Display}: another running gateway is named '{_store.Gateway}'; names must be unique in a fleet.");
                }
            }
            await using (var listen = new NpgsqlCommand($"LISTEN {PostgresChanges.Channel}", connection))
                await listen.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            PostgresStoreLog.Listening(_logger, _store.Display);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The session advisory lock key of a gateway name: 64 bits of its SHA-256.</summary>
    internal static long NameLock(string gateway) =>
        BitConverter.ToInt64(SHA256.HashData(Encoding.UTF8.GetBytes("portcullis.gateway:" + gateway)), 0);
}

/// <summary>The NOTIFY channel the schema's triggers raise (see <see cref="PostgresMigrations"/>).</summary>
public static class PostgresChanges
{
    public const string Channel = "portcullis_changes";
}
