using Microsoft.Extensions.Logging;

namespace Portcullis.Client.Applications;

/// <summary>
/// Keeps one application told the latest port, in the background so the port keeper never waits on it:
///   1. <see cref="Publish"/> records the port and wakes the loop (the latest port wins; older ones are skipped);
///   2. the loop calls <see cref="IPortPublisher.SetPortAsync"/>;
///   3. a failure (the application down, starting, refusing) is logged and retried after a backoff that doubles from
///      <see cref="RetryInitial"/> to <see cref="RetryMax"/>; a newer port retries at once; a refused login is not
///      retried before the port changes (<see cref="PortPublishException.Retry"/>);
///   4. dispose stops the loop. The publisher itself belongs to the caller.
/// An updater's failure never reaches the connection.
/// </summary>
public sealed class PortPublication : IAsyncDisposable
{
    private readonly IPortPublisher _publisher;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _loop;
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _desired;
    private int _confirmed;
    private int _abandoned;
    private int _disposed;

    public PortPublication(IPortPublisher publisher, ILogger logger, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(publisher);
        ArgumentNullException.ThrowIfNull(logger);
        _publisher = publisher;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        _loop = Task.Run(() => RunAsync(_stopping.Token), CancellationToken.None);
    }

    /// <summary>First wait after a failure. Defaults to 1 s.</summary>
    public TimeSpan RetryInitial { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest wait between attempts. Defaults to 30 s: an application coming up is told soon after.</summary>
    public TimeSpan RetryMax { get; init; } = TimeSpan.FromSeconds(30);

    public string Name => _publisher.Name;

    /// <summary>The last port the application accepted; null before any.</summary>
    public ushort? Confirmed => Volatile.Read(ref _confirmed) is var port and > 0 ? (ushort)port : null;

    /// <summary>Asks for the application to be told <paramref name="port"/>; returns at once.</summary>
    public void Publish(ushort port)
    {
        ArgumentOutOfRangeException.ThrowIfZero(port);
        Volatile.Write(ref _desired, port);
        Volatile.Read(ref _wake).TrySetResult();
    }

    private async Task RunAsync(CancellationToken stopping)
    {
        var failures = 0;
        while (!stopping.IsCancellationRequested)
        {
            var wake = Volatile.Read(ref _wake);
            var port = (ushort)Volatile.Read(ref _desired);
            try
            {
                if (port == 0 || port == Volatile.Read(ref _confirmed) || port == _abandoned)
                {
                    await wake.Task.WaitAsync(stopping).ConfigureAwait(false);
                }
                else if (await TryAsync(port, failures, stopping).ConfigureAwait(false))
                {
                    failures = 0;
                    continue;
                }
                else
                {
                    failures++;
                    using var waiting = CancellationTokenSource.CreateLinkedTokenSource(stopping);
                    await Task.WhenAny(Task.Delay(Delay(failures), _time, waiting.Token), wake.Task).ConfigureAwait(false);
                    await waiting.CancelAsync().ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            if (wake.Task.IsCompleted)
            {
                // A new port: try it at once, whatever the backoff had reached.
                Interlocked.CompareExchange(ref _wake, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), wake);
                failures = 0;
            }
        }
    }

    private async Task<bool> TryAsync(ushort port, int failures, CancellationToken stopping)
    {
        string reason;
        try
        {
            await _publisher.SetPortAsync(port, stopping).ConfigureAwait(false);
            Volatile.Write(ref _confirmed, port);
            _logger.PortSet(_publisher.Name, port);
            return true;
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            throw;
        }
        catch (PortPublishException e) when (!e.Retry)
        {
            _abandoned = port;
            _logger.PortSetAbandoned(_publisher.Name, port, e.Message);
            return false;
        }
        catch (PortPublishException e)
        {
            reason = e.Message;
        }
        catch (HttpRequestException e)
        {
            reason = e.HttpRequestError == HttpRequestError.ConnectionError ? "not reachable (" + e.Message + ")" : e.Message;
        }
        catch (TaskCanceledException)
        {
            reason = $"no answer within {ApplicationHttp.RequestTimeout.TotalSeconds} s";
        }
        catch (Exception e)
        {
            // An updater bug must not end the updates, nor the connection.
            _logger.UpdaterFailed(_publisher.Name, e.GetType().Name);
            reason = e.GetType().Name;
        }
        _logger.PortSetFailed(_publisher.Name, port, reason, Delay(failures + 1).TotalSeconds);
        return false;
    }

    private TimeSpan Delay(int failures)
    {
        var delay = RetryInitial * Math.Pow(2, Math.Min(failures - 1, 16));
        return delay > RetryMax ? RetryMax : delay;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stopping.Dispose();
    }
}
