using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;

namespace Portcullis.WireGuard.Uapi;

/// <summary>
/// One client of the UAPI socket. Flow per request:
///   1. read the operation line: <c>get=1</c> or <c>set=1</c>; anything else → errno=-EPROTO, close;
///   2. get: expect the blank line, snapshot the device, write the keys, <c>errno=0</c>;
///   3. set: read the whole body up to the blank line into one request (bounded), then apply it once;
///      a bad line → its errno and nothing applied;
///   4. loop for the next request until the client closes.
/// A client that closes mid-request or goes idle is dropped without a reply and nothing is applied.
/// </summary>
internal sealed class UapiConnection(Socket socket, UapiServer.DeviceGate device, UapiServerOptions options, ILogger logger)
{
    private UapiLineReader? _reader;

    /// <summary>
    /// When this connection began waiting for its client's next bytes (<see cref="System.Diagnostics.Stopwatch.GetTimestamp"/>); 0 while
    /// it serves a request or before it first reads.
    /// </summary>
    public long WaitingSince => Volatile.Read(ref _reader)?.WaitingSince ?? 0;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var reader = new UapiLineReader(socket, options.MaxLineLength, options.IdleTimeout);
        Volatile.Write(ref _reader, reader);
        try
        {
            while (await ServeOneAsync(reader, cancellationToken).ConfigureAwait(false))
            {
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The client went away or the server is stopping: nothing to answer.
        }
        finally
        {
            socket.Dispose();
        }
    }

    public void Abort() => socket.Dispose();

    /// <summary>Serves one request; false when the connection should close.</summary>
    private async Task<bool> ServeOneAsync(UapiLineReader reader, CancellationToken cancellationToken)
    {
        var status = await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false);
        if (status == UapiReadStatus.Closed)
            return false;
        if (status == UapiReadStatus.TooLong)
            return await RefuseAsync(UapiErrno.Protocol, "line too long", cancellationToken).ConfigureAwait(false);

        if (reader.Line.SequenceEqual("get=1"))
            return await GetAsync(reader, cancellationToken).ConfigureAwait(false);
        if (reader.Line.SequenceEqual("set=1"))
            return await SetAsync(reader, cancellationToken).ConfigureAwait(false);
        return await RefuseAsync(UapiErrno.Protocol, "unknown operation", cancellationToken).ConfigureAwait(false);
    }

    private async Task<bool> GetAsync(UapiLineReader reader, CancellationToken cancellationToken)
    {
        var status = await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false);
        if (status == UapiReadStatus.Closed)
            return false;
        if (status == UapiReadStatus.TooLong || !reader.Line.IsEmpty)
            return await RefuseAsync(UapiErrno.Invalid, "get=1 not followed by a blank line", cancellationToken).ConfigureAwait(false);

        using var reply = new UapiBuffer();
        var errno = device.Get(reply);
        if (errno != 0)
            reply.Clear();
        AppendErrno(reply, errno);
        await SendAsync(reply.Written, cancellationToken).ConfigureAwait(false);
        return true;
    }

    private async Task<bool> SetAsync(UapiLineReader reader, CancellationToken cancellationToken)
    {
        var parser = new UapiSetParser();
        long size = 0;
        while (true)
        {
            var status = await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            if (status == UapiReadStatus.Closed)
            {
                parser.Fail(UapiErrno.Protocol, "closed mid-request");
                return false;
            }
            if (status == UapiReadStatus.TooLong)
            {
                parser.Fail(UapiErrno.Protocol, "line too long");
                return await RefuseAsync(UapiErrno.Protocol, "line too long", cancellationToken).ConfigureAwait(false);
            }
            if (reader.Line.IsEmpty)
                break;
            size += reader.Line.Length + 1;
            if (size > options.MaxRequestBytes)
            {
                parser.Fail(UapiErrno.Protocol, "request too large");
                return await RefuseAsync(UapiErrno.Protocol, "request too large", cancellationToken).ConfigureAwait(false);
            }
            parser.AddLine(reader.Line);
        }

        int errno;
        if (parser.Errno != 0)
        {
            errno = parser.Errno;
            logger.SetRejected(errno, parser.Error!);
        }
        else
        {
            var request = parser.Build();
            try
            {
                errno = device.Apply(request);
            }
            finally
            {
                ZeroSecrets(request);
            }
        }

        using var reply = new UapiBuffer(64);
        AppendErrno(reply, errno);
        await SendAsync(reply.Written, cancellationToken).ConfigureAwait(false);
        return true;
    }

    private async Task<bool> RefuseAsync(int errno, string reason, CancellationToken cancellationToken)
    {
        logger.ConnectionRefused(reason);
        using var reply = new UapiBuffer(64);
        AppendErrno(reply, errno);
        await SendAsync(reply.Written, cancellationToken).ConfigureAwait(false);
        return false;
    }

    /// <summary>Bounded by the idle timeout too: a client that stops reading its reply must not pin the connection.</summary>
    private async Task SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        while (!data.IsEmpty)
        {
            idle.CancelAfter(options.IdleTimeout); // re-armed on every bit of progress
            var sent = await socket.SendAsync(data, SocketFlags.None, idle.Token).ConfigureAwait(false);
            data = data[sent..];
        }
    }

    private static void AppendErrno(UapiBuffer reply, int errno)
    {
        reply.Append("errno="u8);
        reply.Append((long)errno);
        reply.Append("\n\n"u8);
    }

    private static void ZeroSecrets(UapiSetRequest request)
    {
        if (request.PrivateKey is not null)
            CryptographicOperations.ZeroMemory(request.PrivateKey);
        foreach (var peer in request.Peers)
        {
            if (peer.PresharedKey is not null)
                CryptographicOperations.ZeroMemory(peer.PresharedKey);
        }
    }
}
