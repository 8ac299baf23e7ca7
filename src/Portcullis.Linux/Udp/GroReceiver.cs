using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Portcullis.Core.Io;
using Portcullis.Linux.Interop;

namespace Portcullis.Linux.Udp;

/// <summary>
/// The receive side of a UDP_GRO socket: recvmmsg into a few private 64 KiB buffers, where the kernel may have
/// joined several datagrams of one sender into one (their size in a UDP_GRO control message); the datagrams are
/// then copied one by one into the caller's areas, and what does not fit this call is handed out by the next.
/// A datagram larger than its area is dropped and counted, and takes no area: the caller's areas keep their order.
/// Owned by the bind's single receiver thread. Native arrays and buffers live on the pinned object heap.
/// </summary>
internal sealed unsafe class GroReceiver
{
    /// <summary>
    /// Messages per recvmmsg. A peer without GSO sends plain datagrams, one per message, so this is also the batch
    /// size for them; 64 × 64 KiB (4 MiB, once per bind) keeps that near the 128 of the plain path.
    /// </summary>
    public const int Messages = 64;

    private const int BufferSize = 65536;
    private const int ControlSpace = 32;
    private const int MsgTrunc = 0x20;
    private const int SolUdp = 17;
    private const int UdpGro = 104;

    private readonly MMsgHdr[] _messages = GC.AllocateArray<MMsgHdr>(Messages, pinned: true);
    private readonly IoVec[] _vectors = GC.AllocateArray<IoVec>(Messages, pinned: true);
    private readonly byte[] _addresses = GC.AllocateArray<byte>(Messages * SockAddrIn6.Size, pinned: true);
    private readonly byte[] _control = GC.AllocateArray<byte>(Messages * ControlSpace, pinned: true);
    private readonly byte[] _buffers = GC.AllocateArray<byte>(Messages * BufferSize, pinned: true);
    private int _received;
    private int _next;
    private int _offset;
    private int _segment;
    private UdpEndpoint _source;
    private long _coalesced;

    /// <summary>Messages in which the kernel had joined several datagrams.</summary>
    public long Coalesced => Interlocked.Read(ref _coalesced);

    /// <summary>True while datagrams of an earlier recvmmsg are still to be handed out.</summary>
    public bool HasPending => _next < _received;

    /// <summary>Prepares every message and runs recvmmsg; the count received, or -1 with errno set.</summary>
    public int Receive(int fd)
    {
        var messages = (MMsgHdr*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_messages));
        var vectors = (IoVec*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_vectors));
        var addresses = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_addresses));
        var control = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_control));
        var buffers = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_buffers));
        for (var i = 0; i < Messages; i++)
        {
            // The kernel rewrites the lengths on return: set them all again.
            vectors[i] = new IoVec { Base = buffers + ((nint)i * BufferSize), Length = BufferSize };
            messages[i] = new MMsgHdr
            {
                Header = new MsgHdr
                {
                    Name = addresses + (i * SockAddrIn6.Size),
                    NameLength = SockAddrIn6.Size,
                    Iov = vectors + i,
                    IovLength = 1,
                    Control = control + (i * ControlSpace),
                    ControlLength = ControlSpace,
                },
            };
        }
        var n = Libc.RecvMMsg(fd, messages, Messages, 0, null);
        _received = Math.Max(n, 0);
        _next = 0;
        _offset = 0;
        return n;
    }

    /// <summary>
    /// Copies the next datagrams into <paramref name="packets"/> from its start; returns how many, and counts those
    /// dropped (too large for their area, unreadable sender) in <paramref name="dropped"/> and
    /// <paramref name="tooLarge"/>.
    /// </summary>
    public int Distribute(Span<ArraySegment<byte>> packets, Span<UdpEndpoint> sources, ref int dropped, ref int tooLarge)
    {
        var kept = 0;
        while (kept < packets.Length && _next < _received)
        {
            var message = _next;
            var length = (int)_messages[message].Length;
            if (_offset == 0)
            {
                var truncated = (_messages[message].Header.Flags & MsgTrunc) != 0;
                if (truncated || length == 0 || !SockAddrIn6.TryRead(_addresses.AsSpan(message * SockAddrIn6.Size, SockAddrIn6.Size), out _source))
                {
                    dropped++;
                    tooLarge += truncated ? 1 : 0;
                    _next++;
                    continue;
                }
                var size = SegmentSize(message);
                _segment = size > 0 ? size : length;
                if (_segment < length)
                    Interlocked.Increment(ref _coalesced);
            }
            var datagram = Math.Min(_segment, length - _offset);
            var area = packets[kept];
            if (datagram > area.Count)
            {
                dropped++;
                tooLarge++;
            }
            else
            {
                _buffers.AsSpan((message * BufferSize) + _offset, datagram).CopyTo(area.AsSpan());
                packets[kept] = new ArraySegment<byte>(area.Array!, area.Offset, datagram);
                sources[kept] = _source;
                kept++;
            }
            _offset += datagram;
            if (_offset >= length)
            {
                _next++;
                _offset = 0;
            }
        }
        return kept;
    }

    /// <summary>The UDP_GRO control message's segment size, or 0 when the kernel joined nothing.</summary>
    private int SegmentSize(int message)
    {
        var length = (int)(nuint)_messages[message].Header.ControlLength;
        var control = _control.AsSpan(message * ControlSpace, Math.Min(length, ControlSpace));
        // struct cmsghdr { size_t cmsg_len; int cmsg_level; int cmsg_type; } then the int segment size.
        while (control.Length >= 20)
        {
            var cmsgLength = (int)MemoryMarshal.Read<nuint>(control);
            if (cmsgLength < 16 || cmsgLength > control.Length)
                return 0;
            if (MemoryMarshal.Read<int>(control[8..]) == SolUdp && MemoryMarshal.Read<int>(control[12..]) == UdpGro)
                return MemoryMarshal.Read<int>(control[16..]);
            var next = (cmsgLength + 7) & ~7;
            if (next >= control.Length)
                return 0;
            control = control[next..];
        }
        return 0;
    }
}
