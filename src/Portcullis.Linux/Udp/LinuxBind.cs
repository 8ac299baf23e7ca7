using Portcullis.Core.Io;
using Portcullis.Linux.Interop;

namespace Portcullis.Linux.Udp;

/// <summary>
/// One dual-stack UDP socket (AF_INET6, IPV6_V6ONLY=0) with batched I/O.
/// Receive: recvmmsg into the caller's buffers (one native batch, single receiver thread); on EAGAIN poll
/// the socket and the wake eventfd, so Dispose ends a blocked Receive; ICMP-reported errors are skipped; a batch of
/// nothing but datagrams too large for their buffers goes back to the caller, who may have larger ones by now.
/// Send: sendmmsg of the whole span to one destination, through a small pool of native batches with a
/// lock each (see <see cref="SendBatchPool"/>); a datagram the kernel refuses is counted and skipped. With UDP GSO
/// (UDP_SEGMENT) each run of equal-sized datagrams is one message the kernel segments, so a sealed TCP super-packet
/// leaves in one trip through the stack; a kernel or device that refuses it gets the same datagrams one by one.
/// </summary>
public sealed unsafe partial class LinuxBind : IBind
{
    private const int MsgTrunc = 0x20;
    private const int SolSocket = 1;
    private const int SoMark = 36;

    private readonly WakeableFd _fd;
    private readonly MessageBatch _receive;
    private readonly SendBatchPool _send;
    private const int Eio = 5;
    private const int Einval = 22;

    /// <summary>Datagrams per GSO message (the kernel's UDP_MAX_SEGMENTS has been 64 since it began).</summary>
    private const int MaxSegments = 64;

    /// <summary>Bytes per GSO message: what an IPv4 UDP datagram can carry (65535 - 20 - 8), with room to spare.</summary>
    private const int MaxSegmentBytes = 65000;

    private int _closed;
    private int _segmentation;
    private int _segmentationRefusal;
    private long _receiveDrops;
    private long _sendDrops;
    private long _segmentedSends;
    private long _segmentationFallbacks;

    private readonly Action<string>? _offloadRefused;

    private readonly GroReceiver? _gro;

    internal LinuxBind(WakeableFd fd, ushort port, int batchSize, int sendSlots, bool segmentation, bool coalescing = false,
        Action<string>? offloadRefused = null)
    {
        _offloadRefused = offloadRefused;
        _gro = coalescing ? new GroReceiver() : null;
        _fd = fd;
        Port = port;
        _segmentation = segmentation ? 1 : 0;
        _receive = new MessageBatch(batchSize, sharedAddress: false);
        _send = new SendBatchPool(sendSlots, batchSize);
    }

    /// <summary>True while sends use UDP GSO (UDP_SEGMENT); it turns off for good when the kernel refuses it.</summary>
    public bool Segmentation => Volatile.Read(ref _segmentation) != 0;

    /// <summary>True when receives take UDP GRO super-datagrams (UDP_GRO) and split them.</summary>
    public bool Coalescing => _gro is not null;

    /// <summary>Received messages that held several datagrams joined by the kernel (UDP GRO).</summary>
    public long CoalescedReceives => _gro?.Coalesced ?? 0;

    /// <summary>GSO messages the kernel took (each several datagrams).</summary>
    public long SegmentedSends => Interlocked.Read(ref _segmentedSends);

    /// <summary>GSO messages the kernel refused, whose datagrams then went one by one.</summary>
    public long SegmentationFallbacks => Interlocked.Read(ref _segmentationFallbacks);

    /// <summary>The errno with which the kernel refused a GSO send and turned segmentation off, or 0.</summary>
    public int SegmentationRefusal => Volatile.Read(ref _segmentationRefusal);

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
                var n = _gro is null ? ReceiveBatch(batch, sources) : ReceiveCoalesced(batch, sources);
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

    /// <summary>As <see cref="ReceiveBatch"/>, through the GRO receiver; areas are never reordered.</summary>
    private int ReceiveCoalesced(Span<ArraySegment<byte>> packets, Span<UdpEndpoint> sources)
    {
        var gro = _gro!;
        if (!gro.HasPending)
        {
            var received = gro.Receive(_fd.Fd);
            if (received < 0)
            {
                var errno = Errno.Last;
                if (errno == Errno.EAGAIN)
                    return NothingReady;
                if (errno == Errno.EINTR || IsIcmpError(errno))
                    return NothingKept;
                throw Errno.Failure("recvmmsg", errno);
            }
        }
        var dropped = 0;
        var tooLarge = 0;
        var kept = gro.Distribute(packets, sources, ref dropped, ref tooLarge);
        if (dropped > 0)
            Interlocked.Add(ref _receiveDrops, dropped);
        return kept > 0 ? kept : tooLarge > 0 ? IoResult.NothingFitted : NothingKept;
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

    /// <summary>Sets an integer socket option (for tests: SO_NO_CHECK makes the kernel refuse GSO sends).</summary>
    internal void SetOption(int level, int name, int value)
    {
        var added = false;
        try
        {
            _fd.DangerousAddRef(ref added);
            if (Libc.SetSockOpt(_fd.Fd, level, name, &value, sizeof(int)) < 0)
                throw Errno.LastFailure($"setsockopt {level}/{name}");
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
