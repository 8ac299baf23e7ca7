using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Portcullis.Linux.Systemd;

/// <summary>
/// The sd_notify(3) protocol without libsystemd: one datagram per state change to the unix socket systemd names in
/// <c>$NOTIFY_SOCKET</c> (a path, or an abstract name written with a leading '@'). Without that variable every call
/// does nothing, so a daemon run by hand or by a test behaves the same. Failures to send are swallowed: a service
/// manager that went away must not take the daemon with it (sd_notify itself only reports them).
/// </summary>
public sealed class ServiceNotifier : IDisposable
{
    private readonly Socket? _socket;
    private readonly UnixDomainSocketEndPoint? _endpoint;

    internal ServiceNotifier(string? socketPath, string? watchdogMicroseconds)
    {
        if (string.IsNullOrEmpty(socketPath) || (socketPath[0] != '/' && socketPath[0] != '@'))
            return;
        // An abstract socket's name starts with a NUL byte; systemd writes it as '@'.
        _endpoint = new UnixDomainSocketEndPoint(socketPath[0] == '@' ? "\0" + socketPath[1..] : socketPath);
        _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        if (long.TryParse(watchdogMicroseconds, NumberStyles.None, CultureInfo.InvariantCulture, out var usec) && usec > 0)
            WatchdogInterval = TimeSpan.FromTicks(usec * 10);
    }

    /// <summary>From this process's environment (<c>NOTIFY_SOCKET</c>, <c>WATCHDOG_USEC</c>).</summary>
    public static ServiceNotifier FromEnvironment() =>
        new(Environment.GetEnvironmentVariable("NOTIFY_SOCKET"), Environment.GetEnvironmentVariable("WATCHDOG_USEC"));

    /// <summary>Whether a service manager listens (NOTIFY_SOCKET set).</summary>
    public bool Enabled => _socket is not null;

    /// <summary>The watchdog period the service manager asked for (WatchdogSec=), or null when it asked for none.</summary>
    public TimeSpan? WatchdogInterval { get; }

    /// <summary>Startup is complete: every listener is up. Units ordered After= this one start now.</summary>
    public void Ready(string status) => Send($"READY=1\nSTATUS={status}\nMAINPID={Environment.ProcessId}");

    /// <summary>The daemon began to shut down.</summary>
    public void Stopping() => Send("STOPPING=1");

    /// <summary>The daemon is alive; due at least every <see cref="WatchdogInterval"/>.</summary>
    public void Watchdog() => Send("WATCHDOG=1");

    /// <summary>Runs <see cref="Watchdog"/> at half the requested interval (as sd_watchdog_enabled(3) advises) until cancelled.</summary>
    public async Task RunWatchdogAsync(CancellationToken cancellationToken)
    {
        if (WatchdogInterval is not { } interval || !Enabled)
            return;
        using var timer = new PeriodicTimer(interval / 2);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
                Watchdog();
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void Send(string message)
    {
        if (_socket is null)
            return;
        try
        {
            _socket.SendTo(Encoding.UTF8.GetBytes(message), _endpoint!);
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public void Dispose() => _socket?.Dispose();
}
