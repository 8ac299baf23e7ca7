using System.Reflection;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Portcullis.Gateway.Admin;
using Portcullis.Gateway.Configuration;
using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Store;
using Portcullis.Gateway.Store.Postgres;

namespace Portcullis.Gateway.Fleet;

// A gateway's membership of a fleet, beside what it serves:
//  1. open: the shared store (migrated under its lock), then the change feed (LISTEN, and the lock on this gateway's
//     name), then this gateway's entry in the fleet's list; presence rows a previous run left are cleared
//  2. attach (once the operations exist): notifications go to the operations; the operations refuse writes at once
//     while the feed has lost the database; a heartbeat every 10 s reports the figures
//  3. presence: session starts and ends are written as they happen (unless [gateway] presence = false); a write that
//     failed (the database away) is made good by writing the whole set at the next heartbeat and after a catch-up
//  4. dispose: heartbeat and feed stop, the entry is marked stopped and presence cleared (best effort, 3 s)
// Nothing here ever blocks serving: session events only enqueue, and every store call is off the data path.

/// <summary>A gateway's part in a fleet: its shared store, the change feed, its entry and presence.</summary>
internal sealed class FleetMember : IAsyncDisposable
{
    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(3);

    private readonly PostgresChangeFeed _feed;
    private readonly GatewaySection _config;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stop = new();
    private readonly Channel<(string PeerId, bool Connected)> _sessions =
        Channel.CreateUnbounded<(string, bool)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly HashSet<string> _connected = new(StringComparer.Ordinal);
    private IForwardingAdmin? _service;
    private Task? _heartbeat;
    private Task? _presence;
    private volatile bool _presenceOwed;

    private FleetMember(PostgresGatewayStore store, PostgresChangeFeed feed, GatewaySection config, ILogger logger, TimeProvider time)
    {
        _time = time;
        Store = store;
        _feed = feed;
        _config = config;
        _logger = logger;
    }

    public PostgresGatewayStore Store { get; }

    /// <summary>Raised after the gateway caught up with the fleet following a reconnect.</summary>
    public event Action? CaughtUp
    {
        add => _feed.CaughtUp += value;
        remove => _feed.CaughtUp -= value;
    }

    /// <summary>Steps 1: throws <see cref="StoreException"/> (naming the database) when it cannot be reached or refuses.</summary>
    public static Task<FleetMember> OpenAsync(GatewayConfig config, ILoggerFactory loggers, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(config);
        var url = PostgresUrl.Parse(config.Store.Url!).WithPasswordFile(config.Store.PasswordFile);
        return OpenAsync(url, config.Gateway, config.Nat.PublicAddresses[0], loggers, cancellationToken, time);
    }

    internal static async Task<FleetMember> OpenAsync(
        PostgresUrl url, GatewaySection gateway, System.Net.IPAddress defaultAddress, ILoggerFactory loggers, CancellationToken cancellationToken,
        TimeProvider? time = null)
    {
        var logger = loggers.CreateLogger("portcullis.fleet");
        var name = gateway.Name ?? throw new ArgumentException("A fleet gateway needs [gateway] name.", nameof(gateway));
        time ??= TimeProvider.System;
        var store = await PostgresGatewayStore.OpenAsync(url, name, PostgresMigrations.All, time, loggers.CreateLogger("portcullis.store"), cancellationToken)
            .ConfigureAwait(false);
        var feed = new PostgresChangeFeed(store, logger);
        try
        {
            await feed.StartAsync(cancellationToken).ConfigureAwait(false);
            await store.RegisterGatewayAsync(new GatewayRegistration(gateway.Region, defaultAddress, Version), cancellationToken)
                .ConfigureAwait(false);
            await store.ReplacePresenceAsync([], cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await feed.DisposeAsync().ConfigureAwait(false);
            await store.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        FleetLog.Joined(logger, name, store.Display, gateway.Presence);
        return new FleetMember(store, feed, gateway, logger, time);
    }

    /// <summary>Step 2: the operations take the fleet's changes from now on (those held since open first).</summary>
    public void Attach(GatewayOperations operations, IForwardingAdmin service)
    {
        ArgumentNullException.ThrowIfNull(operations);
        _service = service;
        operations.AttachFleet(Store, () => _feed.Lost);
        _feed.CaughtUp += () =>
        {
            _presenceOwed = true;
            FleetLog.CaughtUp(_logger, Store.Display);
        };
        _feed.Attach(operations.ApplyFleetChangesAsync);
        _heartbeat = Task.Run(() => HeartbeatAsync(_stop.Token));
        _presence = Task.Run(() => PresenceAsync(_stop.Token));
    }

    /// <summary>
    /// Peers connected here as far as the presence loop has processed session events (the heartbeat reports it). With
    /// presence on, each event's row is written before the next event is counted.
    /// </summary>
    internal int ConnectedHere
    {
        get
        {
            lock (_connected)
                return _connected.Count;
        }
    }

    /// <summary>A session of <paramref name="peerId"/> started or ended here (called by the session pump; never waits).</summary>
    public void OnSession(string peerId, bool connected) => _sessions.Writer.TryWrite((peerId, connected));

    public async ValueTask DisposeAsync()
    {
        _sessions.Writer.TryComplete();
        await _stop.CancelAsync().ConfigureAwait(false);
        foreach (var task in new[] { _heartbeat, _presence })
        {
            if (task is null)
                continue;
            try
            {
                await task.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
        await _feed.DisposeAsync().ConfigureAwait(false);
        using (var grace = new CancellationTokenSource(StopGrace))
        {
            try
            {
                await Store.MarkGatewayStoppedAsync(grace.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is StoreException or OperationCanceledException)
            {
                FleetLog.StatusFailed(_logger, e.Message);
            }
        }
        await Store.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task HeartbeatAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(Heartbeat, _time);
        while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
        {
            if (_feed.Lost is not null)
                continue;
            try
            {
                var service = _service!;
                await Store.ReportGatewayAsync(new GatewayFigures(ConnectedHere, service.Mappings.Count, service.LiveStaticForwardCount), stop)
                    .ConfigureAwait(false);
                if (_presenceOwed)
                    await ReplacePresenceAsync(stop).ConfigureAwait(false);
            }
            catch (StoreException e)
            {
                FleetLog.StatusFailed(_logger, e.Message);
            }
        }
    }

    private async Task PresenceAsync(CancellationToken stop)
    {
        await foreach (var (peerId, connected) in _sessions.Reader.ReadAllAsync(stop).ConfigureAwait(false))
        {
            lock (_connected)
            {
                if (connected)
                    _connected.Add(peerId);
                else
                    _connected.Remove(peerId);
            }
            if (!_config.Presence)
                continue;
            if (_presenceOwed)
            {
                await ReplacePresenceAsync(stop).ConfigureAwait(false);
                continue;
            }
            try
            {
                await Store.SetPresenceAsync(peerId, connected, stop).ConfigureAwait(false);
            }
            catch (StoreException)
            {
                _presenceOwed = true;
            }
        }
    }

    private async Task ReplacePresenceAsync(CancellationToken stop)
    {
        if (!_config.Presence)
        {
            _presenceOwed = false;
            return;
        }
        string[] peers;
        lock (_connected)
            peers = [.. _connected];
        try
        {
            _presenceOwed = false;
            await Store.ReplacePresenceAsync(peers, stop).ConfigureAwait(false);
        }
        catch (StoreException)
        {
            _presenceOwed = true;
        }
    }

    private static string Version { get; } =
        typeof(FleetMember).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(FleetMember).Assembly.GetName().Version?.ToString() ?? "unknown";
}

/// <summary>What fleet membership logs, event ids 7200–7219.</summary>
internal static partial class FleetLog
{
    [LoggerMessage(7200, LogLevel.Information, "Fleet: gateway {Name} joined through {Display} (presence {Presence})")]
    public static partial void Joined(ILogger logger, string name, string display, bool presence);

    [LoggerMessage(7201, LogLevel.Information, "Fleet: store {Display} is back; caught up with the fleet")]
    public static partial void CaughtUp(ILogger logger, string display);

    [LoggerMessage(7202, LogLevel.Warning, "Fleet: status not written ({Reason})")]
    public static partial void StatusFailed(ILogger logger, string reason);
}
