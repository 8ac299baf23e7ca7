using System.Buffers.Binary;
using Portcullis.Linux.Interop;

namespace Portcullis.Linux.Nftables;

/// <summary>
/// A ctnetlink socket joined to the conntrack NEW and DESTROY multicast groups: the kernel tells it of every flow
/// confirmed and every flow removed, of every family (the groups are not per family), in order, as it happens (what
/// `conntrack -E -e NEW,DESTROY` prints). Reading is
/// non-blocking and parses into values (<see cref="ConntrackEvent"/>): nothing is allocated per event.
/// The kernel queues an event in the socket before the packet that caused it moves on, so once <see cref="Read"/> has
/// returned 0 every flow confirmed before that call has been seen. When the socket's buffer overflows the kernel drops
/// events and the next read reports <see cref="ConntrackEventsRead.Overrun"/>: the reader must then rebuild what it
/// knows from a dump. Namespace: that of the thread that constructed this object.
/// Not thread-safe: one reader.
/// </summary>
public sealed unsafe class ConntrackEvents : IDisposable
{
    private const int SockRaw = 3;
    private const int SockCloexec = 0x80000;
    private const int SockNonblock = 0x800;
    private const int SolSocket = 1;
    private const int SoRcvBuf = 8;
    private const int SoRcvBufForce = 33;
    private const int MsgDontWait = 0x40;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _fd;

    /// <param name="receiveBuffer">
    /// Bytes the kernel may queue for us between reads (an event is about 200). Defaults to 8 MiB: some 40 000 events
    /// of slack. Smaller overruns sooner (tests use that to force one).
    /// </param>
    /// <exception cref="LinuxCallException">The socket cannot be opened or the groups joined (no CAP_NET_ADMIN, no
    /// ctnetlink): the caller falls back to dumps.</exception>
    public ConntrackEvents(int receiveBuffer = 8 * 1024 * 1024)
    {
        _fd = Libc.Socket(16 /* AF_NETLINK */, SockRaw | SockCloexec | SockNonblock, CtNetlinkMessages.NetlinkNetfilter);
        if (_fd < 0)
            throw Errno.LastFailure("open ctnetlink event socket");
        // sockaddr_nl { family, pad, pid = 0 (the kernel picks), groups = bit (group - 1) per group }
        var address = stackalloc uint[3];
        address[0] = 16;
        address[1] = 0;
        address[2] = (1u << (CtNetlinkEvents.GroupNew - 1)) | (1u << (CtNetlinkEvents.GroupDestroy - 1));
        if (Libc.Bind(_fd, address, 12) < 0)
        {
            var failure = Errno.LastFailure("join the conntrack event groups");
            Libc.Close(_fd);
            _fd = -1;
            throw failure;
        }
        // Past the rmem_max cap when privileged (FORCE), else as much as allowed.
        if (Libc.SetSockOpt(_fd, SolSocket, SoRcvBufForce, &receiveBuffer, sizeof(int)) < 0)
            _ = Libc.SetSockOpt(_fd, SolSocket, SoRcvBuf, &receiveBuffer, sizeof(int));
    }

    /// <summary>The descriptor, for polling (readable when events wait).</summary>
    internal int Fd => _fd;

    /// <summary>
    /// Reads the events waiting now into <paramref name="into"/>, without blocking: stops when none is left or fewer
    /// than 64 slots remain (call again). Events of flows without ports, or neither IPv4 nor IPv6, are skipped.
    /// </summary>
    public ConntrackEventsRead Read(Span<ConntrackEvent> into)
    {
        ObjectDisposedException.ThrowIf(_fd < 0, this);
        var count = 0;
        var overrun = false;
        while (into.Length - count >= 64)
        {
            nint received;
            fixed (byte* b = _buffer)
                received = Libc.Recv(_fd, b, (nuint)_buffer.Length, MsgDontWait);
            if (received < 0)
            {
                var errno = Errno.Last;
                if (errno == Errno.EINTR)
                    continue;
                if (errno == Errno.EAGAIN)
                    break;
                if (errno == Errno.ENOBUFS)
                {
                    overrun = true; // events were lost; those queued after the loss still follow
                    continue;
                }
                throw Errno.Failure("read conntrack events", errno);
            }
            count += Parse(_buffer.AsSpan(0, (int)received), into[count..], ref overrun);
        }
        return new ConntrackEventsRead(count, overrun);
    }

    public void Dispose()
    {
        if (_fd < 0)
            return;
        Libc.Close(_fd);
        _fd = -1;
    }

    // One datagram: usually one event; more than fit is an overrun like any other loss.
    private static int Parse(ReadOnlySpan<byte> data, Span<ConntrackEvent> into, ref bool overrun)
    {
        var count = 0;
        var offset = 0;
        while (data.Length - offset >= CtNetlinkMessages.HeaderLength)
        {
            var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(data[offset..]);
            if (length < CtNetlinkMessages.HeaderLength || length > data.Length - offset)
                break;
            if (CtNetlinkEvents.TryRead(data.Slice(offset, length), out var read))
            {
                if (count == into.Length)
                {
                    overrun = true;
                    break;
                }
                into[count++] = read;
            }
            offset += CtNetlinkMessages.Align(length);
        }
        return count;
    }
}

/// <summary>What one <see cref="ConntrackEvents.Read"/> got: how many events, and whether some were lost before them.</summary>
public readonly record struct ConntrackEventsRead(int Count, bool Overrun);
