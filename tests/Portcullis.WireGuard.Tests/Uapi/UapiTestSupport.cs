using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using Portcullis.WireGuard.Uapi;

namespace Portcullis.WireGuard.Tests.Uapi;

/// <summary>A server on a private socket directory with an in-memory device; Dispose stops it and removes the directory.</summary>
internal sealed class UapiServerHarness : IDisposable
{
    private readonly DirectoryInfo _directory;

    public UapiServerHarness(UapiServerOptions? options = null, InMemoryUapiDevice? device = null)
    {
        _directory = System.IO.Directory.CreateTempSubdirectory("pct-uapi-");
        InterfaceName = "pct" + Random.Shared.Next(0x10000000, int.MaxValue).ToString("x8");
        Device = device ?? new InMemoryUapiDevice();
        Options = (options ?? new UapiServerOptions()) with { SocketDirectory = _directory.FullName };
        try
        {
            Server = UapiServer.Start(InterfaceName, Device, Logger, Options);
        }
        catch
        {
            _directory.Delete(recursive: true);
            throw;
        }
    }

    public string InterfaceName { get; }

    public InMemoryUapiDevice Device { get; }

    public CapturingLogger Logger { get; } = new();

    public UapiServerOptions Options { get; }

    public UapiServer Server { get; }

    public string Directory => _directory.FullName;

    public Task<RawUapiClient> ConnectAsync() => RawUapiClient.ConnectAsync(Server.SocketPath);

    public void Dispose()
    {
        Server.Dispose();
        _directory.Delete(recursive: true);
    }
}

/// <summary>Speaks the UAPI byte by byte, so tests can send what `wg` never would.</summary>
internal sealed class RawUapiClient : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private readonly Socket _socket;
    private readonly StringBuilder _pending = new();

    private RawUapiClient(Socket socket) => _socket = socket;

    public static async Task<RawUapiClient> ConnectAsync(string socketPath)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath));
            return new RawUapiClient(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public async Task SendAsync(string text) => await SendAsync(Encoding.ASCII.GetBytes(text));

    public async Task SendAsync(byte[] bytes)
    {
        var sent = 0;
        while (sent < bytes.Length)
            sent += await _socket.SendAsync(bytes.AsMemory(sent), SocketFlags.None);
    }

    /// <summary>Reads one reply, up to and including <c>errno=N\n\n</c>; null when the server closed first.</summary>
    public async Task<string?> ReadReplyAsync()
    {
        using var timeout = new CancellationTokenSource(Timeout);
        var buffer = new byte[65536];
        var scanned = 0;
        while (true)
        {
            // Look only at what arrived since the last pass (plus the start of a line cut in two), so
            // multi-megabyte replies stay linear.
            var from = Math.Max(0, scanned - 64);
            var tail = _pending.ToString(from, _pending.Length - from);
            var errnoLine = from == 0 && tail.StartsWith("errno=", StringComparison.Ordinal) ? 0 : tail.IndexOf("\nerrno=", StringComparison.Ordinal);
            var end = errnoLine < 0 ? -1 : tail.IndexOf("\n\n", errnoLine + 1, StringComparison.Ordinal);
            if (end >= 0)
            {
                var reply = _pending.ToString(0, from + end + 2);
                _pending.Remove(0, from + end + 2);
                return reply;
            }
            scanned = _pending.Length;
            var received = await _socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            if (received == 0)
                return null;
            _pending.Append(Encoding.ASCII.GetString(buffer, 0, received));
        }
    }

    public async Task<int> RequestErrnoAsync(string request)
    {
        await SendAsync(request);
        var reply = await ReadReplyAsync();
        Assert.NotNull(reply);
        return ErrnoOf(reply);
    }

    /// <summary>True when the server closes the connection (after any reply) within the timeout.</summary>
    public async Task<bool> ClosedByServerAsync()
    {
        using var timeout = new CancellationTokenSource(Timeout);
        var buffer = new byte[4096];
        try
        {
            while (await _socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token) > 0)
            {
            }
            return true;
        }
        catch (SocketException)
        {
            return true; // reset: closed with our unread data still queued
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public static int ErrnoOf(string reply)
    {
        var start = reply.LastIndexOf("errno=", StringComparison.Ordinal);
        Assert.True(start >= 0, "no errno line in reply");
        var end = reply.IndexOf('\n', start);
        return int.Parse(reply.AsSpan(start + 6, end - start - 6), System.Globalization.CultureInfo.InvariantCulture);
    }

    public void Dispose() => _socket.Dispose();
}
