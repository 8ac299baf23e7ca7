using System.Buffers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Portcullis.WireGuard.Uapi;

internal enum UapiReadStatus
{
    Line,
    /// <summary>The peer closed (possibly mid-line) or went idle: just drop the connection.</summary>
    Closed,
    TooLong,
}

/// <summary>
/// Reads <c>\n</c>-terminated lines from a stream socket into one pooled buffer, never holding more than
/// one line of <see cref="UapiServerOptions.MaxLineLength"/> plus one receive. Lines carry keys in hex, so
/// both buffers are wiped when the reader is disposed.
/// </summary>
internal sealed class UapiLineReader : IDisposable
{
    private const int ReceiveSize = 4096;

    private readonly Socket _socket;
    private readonly int _maxLine;
    private readonly TimeSpan _idleTimeout;
    private byte[] _bytes;
    private char[] _chars;
    private int _start;
    private int _end;
    private int _lineLength;
    private long _waitingSince;

    public UapiLineReader(Socket socket, int maxLineLength, TimeSpan idleTimeout)
    {
        _socket = socket;
        _maxLine = maxLineLength;
        _idleTimeout = idleTimeout;
        _bytes = ArrayPool<byte>.Shared.Rent(maxLineLength + 1 + ReceiveSize);
        _chars = ArrayPool<char>.Shared.Rent(maxLineLength);
    }

    /// <summary>
    /// <see cref="System.Diagnostics.Stopwatch.GetTimestamp"/> when the reader began waiting for bytes from the client, 0 while it is not
    /// waiting (a request is being served). The server closes the connection waiting longest when it is full.
    /// </summary>
    public long WaitingSince => Volatile.Read(ref _waitingSince);

    /// <summary>The last line read (newline excluded), valid until the next read.</summary>
    public ReadOnlySpan<char> Line => _chars.AsSpan(0, _lineLength);

    public async ValueTask<UapiReadStatus> ReadLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var newline = _bytes.AsSpan(_start, _end - _start).IndexOf((byte)'\n');
            if (newline >= 0)
            {
                if (newline > _maxLine)
                    return UapiReadStatus.TooLong;
                // Latin-1 maps each byte to one char; anything outside ASCII then fails to parse.
                _lineLength = Encoding.Latin1.GetChars(_bytes.AsSpan(_start, newline), _chars);
                _start += newline + 1;
                return UapiReadStatus.Line;
            }
            if (_end - _start > _maxLine)
                return UapiReadStatus.TooLong;

            if (_start > 0)
            {
                _bytes.AsSpan(_start, _end - _start).CopyTo(_bytes);
                _end -= _start;
                _start = 0;
            }

            int received;
            using (var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                idle.CancelAfter(_idleTimeout);
                Volatile.Write(ref _waitingSince, System.Diagnostics.Stopwatch.GetTimestamp());
                try
                {
                    received = await _socket.ReceiveAsync(_bytes.AsMemory(_end), SocketFlags.None, idle.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    return UapiReadStatus.Closed;
                }
                finally
                {
                    Volatile.Write(ref _waitingSince, 0);
                }
            }
            if (received == 0)
                return UapiReadStatus.Closed;
            _end += received;
        }
    }

    public void Dispose()
    {
        if (_bytes.Length == 0)
            return;
        CryptographicOperations.ZeroMemory(_bytes);
        _chars.AsSpan().Clear();
        ArrayPool<byte>.Shared.Return(_bytes);
        ArrayPool<char>.Shared.Return(_chars);
        _bytes = [];
        _chars = [];
    }
}
