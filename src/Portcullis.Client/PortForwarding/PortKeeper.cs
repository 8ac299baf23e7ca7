using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Portcullis.Client.Applications;
using Portcullis.PortMapping;
using Portcullis.PortMapping.ClientSide;

namespace Portcullis.Client.PortForwarding;

/// <summary>
/// Keeps the forwarded port alive at the gateway while the tunnel is up:
///   1. Start: map each protocol asked for (PCP, NAT-PMP fallback in <see cref="PortMappingClient"/>)
///   2. refresh each lease after <see cref="PortKeeperOptions.RefreshFraction"/> of its granted lifetime
///   3. lost state — the epoch going back or jumping (<see cref="EpochTracker"/>) in any answer, including a periodic
///      ANNOUNCE probe; a refused refresh; no answer; an announcement from the gateway on UDP 5350 — leads to mapping again (after a backoff when refused or unanswered)
///   4. a new port: <see cref="LeaseChanged"/>, then the port file, the application updaters (in the background, with
///      retries: <see cref="PortPublication"/>), then the hook; a refresh alone raises only the event
///   (for <c>both</c>, TCP is asked first: the gateway gives UDP of the same internal port the same public port)
///   5. dispose: stop the loop, delete the mappings (lifetime 0) within a time limit
/// Time comes from the injected <see cref="TimeProvider"/>, so the schedule is tested on virtual time.
/// </summary>
public sealed partial class PortKeeper : IPortKeeper
{
    private readonly PortKeeperOptions _options;
    private readonly PortMappingClient _client;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly MappingSlot[] _slots;
    private readonly EpochTracker _epoch = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Socket? _announceSocket;
    private Task? _loop;
    private Task? _announceLoop;
    private PortPublication[] _publications = [];
    private ushort _publishedPort;
    private DateTimeOffset _nextEpochCheck = DateTimeOffset.MinValue;
    private bool _started;
    private bool _disposed;

    public PortKeeper(PortKeeperOptions options, PortMappingClient client, ILogger logger, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(options.Forward);
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(logger);
        if (options.RefreshFraction is <= 0 or >= 1)
            throw new ArgumentOutOfRangeException(nameof(options), options.RefreshFraction, "RefreshFraction must lie between 0 and 1");
        _options = options;
        _client = client;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        _slots = options.Forward.Protocol switch
        {
            ForwardProtocol.Tcp => [new MappingSlot(MappingProtocol.Tcp)],
            ForwardProtocol.Udp => [new MappingSlot(MappingProtocol.Udp)],
            _ => [new MappingSlot(MappingProtocol.Tcp), new MappingSlot(MappingProtocol.Udp)],
        };
    }

    public PortLease? Current { get; private set; }

    public IReadOnlyList<PortLease> Leases { get; private set; } = [];

    public event Action<PortLease>? LeaseChanged;

    /// <summary>Where announcements are listened for; null before <see cref="Start"/> or when the port could not be bound.</summary>
    public IPEndPoint? AnnounceEndPoint => _announceSocket?.LocalEndPoint as IPEndPoint;

    public void Start()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_started)
                return;
            _started = true;
            _publications = [.. _options.Publishers.Select(p => new PortPublication(p, _logger, _time))];
            _announceSocket = BindAnnounceSocket();
            if (_announceSocket is { } socket)
                _announceLoop = Task.Run(() => AnnounceLoopAsync(socket, _stopping.Token), CancellationToken.None);
            _loop = Task.Run(() => RunAsync(_stopping.Token), CancellationToken.None);
        }
    }

    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            if (_disposed)
                return;
            _disposed = true;
        }
        await _stopping.CancelAsync().ConfigureAwait(false);
        _announceSocket?.Dispose();
        foreach (var task in new[] { _loop, _announceLoop })
        {
            if (task is not null)
                await task.ConfigureAwait(false);
        }
        foreach (var publication in _publications)
            await publication.DisposeAsync().ConfigureAwait(false);
        await DeleteMappingsAsync().ConfigureAwait(false);
        _client.Dispose();
        _stopping.Dispose();
    }

    /// <summary>Makes every mapping due now (an announcement, or lost state seen in another mapping's answer).</summary>
    private void RemapAll(DateTimeOffset now)
    {
        foreach (var slot in _slots)
            slot.Due = now;
    }

    private async Task RunAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                var wake = Volatile.Read(ref _wake);
                foreach (var slot in _slots)
                {
                    if (slot.Due <= _time.GetUtcNow())
                        await ExchangeAsync(slot, stopping).ConfigureAwait(false);
                }
                if (EpochCheckDue(out _) && _time.GetUtcNow() >= _nextEpochCheck)
                    await CheckEpochAsync(stopping).ConfigureAwait(false);
                var next = DateTimeOffset.MaxValue;
                foreach (var slot in _slots)
                    next = slot.Due < next ? slot.Due : next;
                if (EpochCheckDue(out var check) && check < next)
                    next = check;
                var delay = next - _time.GetUtcNow();
                if (delay > TimeSpan.Zero)
                    await WaitAsync(delay, wake, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // A bug in one round must not end the keeping; wait a little so a persistent fault cannot spin.
                _logger.LoopFailed(e.GetType().Name);
                try
                {
                    await Task.Delay(_options.RetryInitial, _time, stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>The epoch probe runs while some lease is held (before that, the mapping requests themselves ask).</summary>
    private bool EpochCheckDue(out DateTimeOffset when)
    {
        when = _nextEpochCheck;
        if (_options.EpochCheckInterval <= TimeSpan.Zero)
            return false;
        foreach (var slot in _slots)
        {
            if (slot.Held)
                return true;
        }
        return false;
    }

    private async Task CheckEpochAsync(CancellationToken stopping)
    {
        var epoch = await _client.EpochAsync(stopping).ConfigureAwait(false);
        var now = _time.GetUtcNow();
        _nextEpochCheck = now + _options.EpochCheckInterval;
        if (epoch is uint seen && _epoch.Observe(seen, now))
        {
            _logger.StateLost("the gateway's epoch went back or jumped");
            RemapAll(now);
        }
    }

    /// <summary>Waits for the delay or an announcement, whichever comes first.</summary>
    private async Task WaitAsync(TimeSpan delay, TaskCompletionSource wake, CancellationToken stopping)
    {
        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var timer = Task.Delay(delay, _time, waiting.Token);
        await Task.WhenAny(timer, wake.Task).ConfigureAwait(false);
        await waiting.CancelAsync().ConfigureAwait(false);
        stopping.ThrowIfCancellationRequested();
        if (wake.Task.IsCompleted)
        {
            Interlocked.CompareExchange(ref _wake, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), wake);
            RemapAll(_time.GetUtcNow());
        }
    }
}
