using Portcullis.Core.Io;
using Portcullis.Linux.Interop;

namespace Portcullis.Linux.Udp;

/// <summary>
/// One dual-stack UDP socket (AF_INET6, IPV6_V6ONLY=0) with batched I/O.
/// Receive: recvmmsg into the caller's buffers (one native batch, single receiver thread); on EAGAIN poll
/// the socket and the wake eventfd, so Dispose ends a blocked Receive; ICMP-reported errors are skipped; a batch of
/// nothing but datagrams too large for their buffers goes back to the caller, who may have larger ones by now.
/// Send: sendmmsg of the whole span to one destination, through a small pool of native batches with a
/// lock each (see <see cref="SendBatchPool"/>); a datagram the kernel refuses is counted and skipped.
/// </summary>
public sealed unsafe class LinuxBind : IBind
{
    private const int MsgTrunc = 0x20;
    private const int SolSocket = 1;
    private const int SoMark = 36;

    private readonly WakeableFd _fd;
    private readonly MessageBatch _receive;
    private readonly SendBatchPool _send;
    private int _closed;
    private long _receiveDrops;
    private long _sendDrops;

    internal LinuxBind(WakeableFd fd, ushort port, int batchSize, int sendSlots)
    {
        _fd = fd;
        Port = port;
        _receive = new MessageBatch(batchSize, sharedAddress: false);
        _send = new SendBatchPool(sendSlots, batchSize);
    }

    public ushort Port { get; }

    /// <summary>Datagrams dropped on receive: truncated (larger than the buffer) or from an unknown address family.</summary>
    public long ReceiveDrops => Interlocked.Read(ref _receiveDrops);

    /// <summary>Datagrams the kernel refused on send (unreachable, too big, filtered, ...).</summary>
    public long SendDrops => Interlocked.Read(ref _sendDrops);

    public int Receive(Span<ArraySegment<byte>> packets, Span<UdpEndpoint> sources)
    {
        if (packets.IsEmpty)
            throw new ArgumentException("At least one buffer is needed.", nameof(packets));
        if (sources.Length < packets.Length)
            throw new ArgumentException("sources must be at least as long as packets.", nameof(sources));
        var added = false;
        try
        {
            _fd.DangerousAddRef(ref added);
            var batch = packets[..Math.Min(packets.Length, _receive.Capacity)];
            while (Volatile.Read(ref _closed) == 0)
            {
                var n = ReceiveBatch(batch, sources);
                if (n >= 0)
                    return n;
                if (n == NothingReady && !_fd.WaitReadable())
                    return IoResult.Closed;
            }
            return IoResult.Closed;
        }
        catch (ObjectDisposedException)
        {
            return IoResult.Closed;
        }
        finally
        {
            if (added)
                _fd.DangerousRelease();
        }
    }

    private const int NothingReady = -2;
    private const int NothingKept = -3;

    /// <summary>
    /// One recvmmsg: the datagrams kept; <see cref="IoResult.NothingFitted"/> if every one was too large;
    /// <see cref="NothingKept"/> if none was kept for another reason (an ICMP error, an unreadable sender);
    /// <see cref="NothingReady"/> if none were ready.
    /// </summary>
    private int ReceiveBatch(Span<ArraySegment<byte>> packets, Span<UdpEndpoint> sources)
    {
        int received;
        try
        {
            for (var i = 0; i < packets.Length; i++)
                _receive.Set(i, packets[i]);
            received = Libc.RecvMMsg(_fd.Fd, _receive.Messages, (uint)packets.Length, 0, null);
        }
        finally
        {
            _receive.Unpin();
        }
        if (received < 0)
        {
            var errno = Errno.Last;
            if (errno == Errno.EAGAIN)
                return NothingReady;
            // EINTR, and errors queued by ICMP (ECONNREFUSED, unreachable): nothing lost, receive again.
            if (errno == Errno.EINTR || IsIcmpError(errno))
                return NothingKept;
            throw Errno.Failure("recvmmsg", errno);
        }

        // Keep good datagrams at the front; swap dropped ones back so every caller buffer stays in the span.
        var kept = 0;
        var truncated = 0;
        for (var i = 0; i < received; i++)
        {
            var tooLarge = (_receive.FlagsOf(i) & MsgTrunc) != 0;
            if (tooLarge || !SockAddrIn6.TryRead(_receive.AddressOf(i), out var source))
            {
                Interlocked.Increment(ref _receiveDrops);
                truncated += tooLarge ? 1 : 0;
                continue;
            }
            var area = packets[i];
            if (kept != i)
                packets[i] = packets[kept];
            packets[kept] = new ArraySegment<byte>(area.Array!, area.Offset, (int)_receive.LengthOf(i));
            sources[kept] = source;
            kept++;
        }
        return kept > 0 ? kept : truncated > 0 ? IoResult.NothingFitted : NothingKept;
    }

    public int Send(ReadOnlySpan<ArraySegment<byte>> packets, UdpEndpoint destination)
    {
        if (packets.IsEmpty || Volatile.Read(ref _closed) != 0)
            return 0;
        var added = false;
        try
        {
            _fd.DangerousAddRef(ref added);
            var batch = _send.Rent(out var slot);
            try
            {
                SockAddrIn6.Write(batch.SharedAddress, destination);
                var sent = 0;
                for (var start = 0; start < packets.Length; start += batch.Capacity)
                {
                    var chunk = packets.Slice(start, Math.Min(batch.Capacity, packets.Length - start));
                    var result = SendChunk(batch, chunk);
                    if (result < 0)
                        return sent;
                    sent += result;
                }
                return sent;
            }
            finally
            {
                _send.Return(slot);
            }
        }
        catch (ObjectDisposedException)
        {
            return 0;
        }
        finally
        {
            if (added)
                _fd.DangerousRelease();
        }
    }

    /// <summary>Sends one chunk; the count sent, or -1 if the bind closed while waiting for room.</summary>
    private int SendChunk(MessageBatch batch, ReadOnlySpan<ArraySegment<byte>> chunk)
    {
        try
        {
            for (var i = 0; i < chunk.Length; i++)
                batch.Set(i, chunk[i]);
            var sent = 0;
            var next = 0;
            while (next < chunk.Length)
            {
                var n = Libc.SendMMsg(_fd.Fd, batch.Messages + next, (uint)(chunk.Length - next), 0);
                if (n > 0)
                {
                    next += n;
                    sent += n;
                    continue;
                }
                var errno = n < 0 ? Errno.Last : Errno.EAGAIN;
                if (errno == Errno.EINTR)
                    continue;
                if (errno == Errno.EAGAIN)
                {
                    if (!_fd.WaitWritable())
                        return -1;
                    continue;
                }
                // The first remaining datagram was refused (EMSGSIZE, unreachable, EPERM, ...): skip it.
                Interlocked.Increment(ref _sendDrops);
                next++;
            }
            return sent;
        }
        finally
        {
            batch.Unpin();
        }
    }

    public void SetMark(uint mark)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _closed) != 0, this);
        var added = false;
        try
        {
            _fd.DangerousAddRef(ref added);
            if (Libc.SetSockOpt(_fd.Fd, SolSocket, SoMark, &mark, sizeof(uint)) < 0)
                throw Errno.LastFailure($"set SO_MARK {mark}");
        }
        finally
        {
            if (added)
                _fd.DangerousRelease();
        }
    }

    /// <summary>Reads SO_MARK back (for tests and diagnostics).</summary>
    internal uint GetMark()
    {
        var added = false;
        try
        {
            _fd.DangerousAddRef(ref added);
            uint mark = 0;
            var length = (uint)sizeof(uint);
            if (Libc.GetSockOpt(_fd.Fd, SolSocket, SoMark, &mark, &length) < 0)
                throw Errno.LastFailure("get SO_MARK");
            return mark;
        }
        finally
        {
            if (added)
                _fd.DangerousRelease();
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
            return;
        _fd.Wake();
        _fd.Dispose();
    }

    private static bool IsIcmpError(int errno) =>
        errno is Errno.ECONNREFUSED or Errno.EHOSTUNREACH or Errno.ENETUNREACH or Errno.EHOSTDOWN or Errno.ENETDOWN;
}
