using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Portcullis.Gateway.Store;

namespace Portcullis.Gateway.Audit;

/// <summary>
/// Writes the audit trail and enforces its retention, off the forwarding thread:
/// <list type="number">
/// <item>at start, closes the records a previous run left open (it may have crashed; what the kernel still holds is
/// recorded again when the service lists it);</item>
/// <item>changes posted by <see cref="AuditingForwardingTable"/> go to the store in order, a batch per kernel commit;
/// while the store is away a batch is retried, the later ones wait behind it;</item>
/// <item>every <see cref="PrunePeriod"/> (and once at start), records that ended more than the retention ago are
/// deleted, and a line says how many.</item>
/// </list>
/// </summary>
public sealed class AuditRecorder : IAsyncDisposable
{
    /// <summary>How long a batch the store refused waits before it is tried again.</summary>
    public static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(5);

    private readonly IAuditStore _store;
    private readonly Func<string, string?> _nameOf;
    private readonly TimeSpan _retention;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Channel<IReadOnlyList<AuditChange>> _queue =
        Channel.CreateUnbounded<IReadOnlyList<AuditChange>>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stopping = new();
    private Task _writer = Task.CompletedTask;
    private Task _pruner = Task.CompletedTask;

    /// <param name="nameOf">The peer's name for its id, recorded beside it (the record outlives the peer); null when unknown.</param>
    public AuditRecorder(IAuditStore store, Func<string, string?> nameOf, TimeSpan retention, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(nameOf);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(retention, TimeSpan.Zero);
        _store = store;
        _nameOf = nameOf;
        _retention = retention;
        _time = time;
        _logger = logger;
        PrunePeriod = TimeSpan.FromTicks(Math.Clamp(retention.Ticks / 2, TimeSpan.TicksPerSecond, TimeSpan.TicksPerHour));
    }

    /// <summary>Half the retention, at least a second and at most an hour: a record outlives its retention by at most that.</summary>
    public TimeSpan PrunePeriod { get; }

    /// <summary>Raised after every prune with the number of records deleted (tests wait on it).</summary>
    public event Action<int>? Pruned;

    /// <summary>
    /// Closes what a previous run left open, then starts writing and pruning. <paramref name="recording"/> false: auditing
    /// is off, nothing will be posted, and only the records of earlier runs are pruned.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken, bool recording = true)
    {
        var closed = await _store.CloseOpenAuditAsync(_time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        if (closed > 0)
            AuditLog.ClosedOpen(_logger, closed);
        if (recording)
            AuditLog.TrailOn(_logger, (long)_retention.TotalSeconds, (long)PrunePeriod.TotalSeconds);
        _writer = Task.Run(WriteLoopAsync, CancellationToken.None);
        _pruner = Task.Run(PruneLoopAsync, CancellationToken.None);
    }

    internal string? NameOf(string peerId) => _nameOf(peerId);

    /// <summary>Queues one commit's changes; never blocks the caller.</summary>
    internal void Post(IReadOnlyList<AuditChange> changes)
    {
        if (changes.Count > 0)
            _queue.Writer.TryWrite(changes);
    }

    /// <summary>One prune now: deletes the records that ended before now − retention.</summary>
    public async Task<int> PruneOnceAsync(CancellationToken cancellationToken)
    {
        var cutoff = _time.GetUtcNow() - _retention;
        var count = await _store.PruneAuditAsync(cutoff, cancellationToken).ConfigureAwait(false);
        if (count > 0)
            AuditLog.Pruned(_logger, count, cutoff);
        Pruned?.Invoke(count);
        return count;
    }

    private async Task WriteLoopAsync()
    {
        var token = _stopping.Token;
        await foreach (var batch in _queue.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
        {
            while (true)
            {
                try
                {
                    await _store.AppendAuditAsync(batch, CancellationToken.None).ConfigureAwait(false);
                    break;
                }
                catch (StoreException e)
                {
                    AuditLog.StoreFailed(_logger, "a record", e.Message);
                    if (token.IsCancellationRequested)
                        return;
                    try
                    {
                        await Task.Delay(RetryDelay, _time, token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }
                }
            }
        }
    }

    private async Task PruneLoopAsync()
    {
        var token = _stopping.Token;
        using var timer = new PeriodicTimer(PrunePeriod, _time);
        try
        {
            do
            {
                try
                {
                    await PruneOnceAsync(token).ConfigureAwait(false);
                }
                catch (StoreException e)
                {
                    AuditLog.StoreFailed(_logger, "a prune", e.Message);
                }
            }
            while (await timer.WaitForNextTickAsync(token).ConfigureAwait(false));
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Writes what is queued (one try each while stopping), then stops pruning.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _pruner.ConfigureAwait(false);
        await _writer.ConfigureAwait(false);
        _stopping.Dispose();
    }
}
