using System.Collections.Concurrent;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Portcullis.WireGuard.Uapi;

/// <summary>
/// The cross-platform UAPI socket (<c>/var/run/wireguard/IFNAME.sock</c>) that stock <c>wg</c> talks to.
/// Start: create the directory (0755), remove a stale socket (refuse if a live process answers on it),
/// bind, chmod 0600 before listening (so no one connects through a wider mode), accept on the thread pool.
/// Requests to the device are serialised, like wireguard-go's ipcMutex. Dispose closes the listener and
/// every connection and unlinks the socket; it is idempotent.
/// </summary>
public sealed class UapiServer : IDisposable
{
    private const int ListenBacklog = 128; // a full Unix-socket backlog fails connect() with EAGAIN at once
    private const int MaxSocketPathBytes = 107; // sun_path is 108 bytes, NUL included

    private static readonly System.Buffers.SearchValues<char> BadNameChars = System.Buffers.SearchValues.Create("/: \t\n\r\0");

    private readonly Socket _listener;
    private readonly DeviceGate _device;
    private readonly UapiServerOptions _options;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<UapiConnection, byte> _connections = new();
    private readonly Task _acceptLoop;
    private int _disposed;
    private long _evicted;

    private UapiServer(string socketPath, Socket listener, IUapiDevice device, UapiServerOptions options, ILogger logger)
    {
        SocketPath = socketPath;
        _listener = listener;
        _device = new DeviceGate(device, logger);
        _options = options;
        _logger = logger;
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    public string SocketPath { get; }

    public static UapiServer Start(string interfaceName, IUapiDevice device, ILogger logger, string socketDirectory = UapiSocket.DefaultDirectory) =>
        Start(interfaceName, device, logger, new UapiServerOptions { SocketDirectory = socketDirectory });

    public static UapiServer Start(string interfaceName, IUapiDevice device, ILogger logger, UapiServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(logger);
        if (OperatingSystem.IsWindows())
            throw new PlatformNotSupportedException("The UAPI socket is a Unix socket with Unix permissions.");
        ArgumentNullException.ThrowIfNull(options);
        ValidateInterfaceName(interfaceName);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxLineLength, 64, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxRequestBytes, options.MaxLineLength, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxConnections, 1, nameof(options));

        var socketPath = UapiSocket.PathFor(interfaceName, options.SocketDirectory);
        if (System.Text.Encoding.UTF8.GetByteCount(socketPath) > MaxSocketPathBytes)
            throw new ArgumentException($"Socket path {socketPath} is longer than a Unix socket address allows.", nameof(options));

        Directory.CreateDirectory(options.SocketDirectory,
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        RemoveStaleSocket(socketPath, logger);

        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(socketPath));
            File.SetUnixFileMode(socketPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            listener.Listen(ListenBacklog);
        }
        catch
        {
            listener.Dispose();
            TryDelete(socketPath);
            throw;
        }

        logger.Listening(socketPath);
        return new UapiServer(socketPath, listener, device, options, logger);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _stopping.Cancel();
        _listener.Dispose();
        TryDelete(SocketPath);
        foreach (var connection in _connections.Keys)
            connection.Abort();
        // The loop ends as soon as the pending accept sees the closed listener.
        _acceptLoop.Wait(TimeSpan.FromSeconds(2));
        _stopping.Dispose();
        _logger.Stopped(SocketPath);
    }

    /// <summary>Linux's dev_valid_name: 1–15 bytes, not "." or "..", no '/', ':' or whitespace.</summary>
    private static void ValidateInterfaceName(string interfaceName)
    {
        ArgumentNullException.ThrowIfNull(interfaceName);
        var valid = interfaceName.Length is > 0 and < 16 && interfaceName is not "." and not ".."
            && !interfaceName.AsSpan().ContainsAny(BadNameChars)
            && System.Text.Encoding.UTF8.GetByteCount(interfaceName) < 16;
        if (!valid)
            throw new ArgumentException($"'{interfaceName}' is not a valid interface name.", nameof(interfaceName));
    }

    /// <summary>A socket file nobody answers on is left over from a crash; one that answers belongs to a live device.</summary>
    private static void RemoveStaleSocket(string socketPath, ILogger logger)
    {
        if (!File.Exists(socketPath))
            return;
        using (var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            try
            {
                probe.Connect(new UnixDomainSocketEndPoint(socketPath));
                throw new IOException($"{socketPath} is in use by a running WireGuard device.");
            }
            catch (SocketException)
            {
                // Refused: stale.
            }
        }
        File.Delete(socketPath);
        logger.RemovedStaleSocket(socketPath);
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private async Task AcceptLoopAsync()
    {
        var stopping = _stopping.Token;
        while (!stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(stopping).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e)
            {
                if (stopping.IsCancellationRequested)
                    return;
                // E.g. out of file descriptors: back off rather than spin.
                _logger.AcceptFailed(e);
                await Task.Delay(100, CancellationToken.None).ConfigureAwait(false);
                continue;
            }

            if (_connections.Count >= _options.MaxConnections && !EvictLongestWaiting())
            {
                _logger.ConnectionLimit(_options.MaxConnections);
                client.Dispose();
                continue;
            }
            var connection = new UapiConnection(client, _device, _options, _logger);
            _connections.TryAdd(connection, 0);
            _ = ServeAsync(connection, stopping);
        }
    }

    /// <summary>
    /// Full: the connection that has waited longest for its client's bytes makes room. A stock <c>wg</c> sends its whole
    /// request as soon as it connects and is served at once, so connections held open without a request (a flood, a stuck
    /// client) are the ones that go, and the operator's <c>wg</c> is still heard. False when every connection is busy
    /// with a request (those are never cut).
    /// </summary>
    private bool EvictLongestWaiting()
    {
        UapiConnection? oldest = null;
        var oldestSince = long.MaxValue;
        foreach (var connection in _connections.Keys)
        {
            var since = connection.WaitingSince;
            if (since != 0 && since < oldestSince)
            {
                oldest = connection;
                oldestSince = since;
            }
        }
        if (oldest is null || !_connections.TryRemove(oldest, out _))
            return false;
        oldest.Abort();
        // A flood would otherwise write a line per connection: the first, then every 1024th.
        if (++_evicted % 1024 == 1)
            _logger.ConnectionEvicted(_options.MaxConnections, _evicted);
        return true;
    }

    private async Task ServeAsync(UapiConnection connection, CancellationToken stopping)
    {
        try
        {
            await connection.RunAsync(stopping).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // A bug, not a client: log it (type only) rather than leave an unobserved task exception.
            _logger.ConnectionFailed(e.GetType().Name);
        }
        finally
        {
            _connections.TryRemove(connection, out _);
        }
    }

    /// <summary>The device behind one lock, with its failures turned into errno values.</summary>
    internal sealed class DeviceGate(IUapiDevice device, ILogger logger)
    {
        private readonly Lock _lock = new();

        public int Get(UapiBuffer output)
        {
            lock (_lock)
            {
                UapiDeviceState? state = null;
                try
                {
                    state = device.GetState();
                    UapiGetFormatter.Format(state, output);
                    return 0;
                }
                catch (Exception e)
                {
                    return Failed(e);
                }
                finally
                {
                    // The reply buffer wipes its own copy; the snapshot's keys would otherwise wait for the GC.
                    state?.WipeKeys();
                }
            }
        }

        public int Apply(UapiSetRequest request)
        {
            lock (_lock)
            {
                try
                {
                    device.Apply(request);
                    logger.Applied(request.Peers.Count);
                    return 0;
                }
                catch (Exception e)
                {
                    return Failed(e);
                }
            }
        }

        private int Failed(Exception e)
        {
            if (e is UapiException uapi)
            {
                logger.ApplyRefused(uapi.Errno, uapi.Message);
                return uapi.Errno;
            }
            logger.DeviceFailed(e.GetType().Name);
            return UapiErrno.IO;
        }
    }
}
