using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Portcullis.Linux.Interop;

namespace Portcullis.Linux.Udp;

/// <summary>
/// The native side of one recvmmsg/sendmmsg batch, allocated once: mmsghdr, iovec and sockaddr arrays
/// on the pinned object heap (stable addresses, freed by the GC, so no use-after-free on close), plus the
/// pins that hold the caller's buffers still for the duration of one call. Not thread-safe: one user at a time.
/// </summary>
internal sealed unsafe class MessageBatch
{
    private readonly MMsgHdr[] _messages;
    private readonly IoVec[] _vectors;
    private readonly byte[] _addresses;
    private readonly GCHandle[] _pins;
    private readonly bool _sharedAddress;
    private readonly byte[]? _control;
    private readonly int[] _firstDatagram;
    private readonly int[] _datagrams;
    private int _pinCount;

    /// <summary>CMSG_SPACE(sizeof(uint16)): one UDP_SEGMENT control message on LP64.</summary>
    private const int SegmentControlSpace = 24;

    /// <summary>CMSG_LEN(sizeof(uint16)).</summary>
    private const int SegmentControlLength = 18;

    private const int SolUdp = 17;
    private const int UdpSegment = 103;

    /// <param name="capacity">Datagrams per call.</param>
    /// <param name="sharedAddress">Send: every message points at one destination address. Receive: one each.</param>
    public MessageBatch(int capacity, bool sharedAddress)
    {
        Capacity = capacity;
        _sharedAddress = sharedAddress;
        _messages = GC.AllocateArray<MMsgHdr>(capacity, pinned: true);
        _vectors = GC.AllocateArray<IoVec>(capacity, pinned: true);
        _addresses = GC.AllocateArray<byte>(sharedAddress ? SockAddrIn6.Size : capacity * SockAddrIn6.Size, pinned: true);
        _pins = new GCHandle[capacity];
        _firstDatagram = new int[capacity];
        _datagrams = new int[capacity];
        if (sharedAddress)
            _control = GC.AllocateArray<byte>(capacity * SegmentControlSpace, pinned: true);
    }

    public int Capacity { get; }

    public MMsgHdr* Messages => (MMsgHdr*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_messages));

    /// <summary>The destination written into every message of a send batch.</summary>
    public Span<byte> SharedAddress => _addresses.AsSpan(0, SockAddrIn6.Size);

    public ReadOnlySpan<byte> AddressOf(int index) =>
        _addresses.AsSpan(_sharedAddress ? 0 : index * SockAddrIn6.Size, SockAddrIn6.Size);

    public uint LengthOf(int index) => _messages[index].Length;

    public int FlagsOf(int index) => _messages[index].Header.Flags;

    /// <summary>Points message <paramref name="index"/> at <paramref name="area"/>, pinning its array.</summary>
    public void Set(int index, ArraySegment<byte> area)
    {
        var array = area.Array ?? throw new ArgumentException($"Buffer {index} has no array.", nameof(area));
        // Consecutive areas usually share one slab; pin each array once per call.
        if (_pinCount == 0 || !ReferenceEquals(_pins[_pinCount - 1].Target, array))
            _pins[_pinCount++] = GCHandle.Alloc(array, GCHandleType.Pinned);

        var vectors = (IoVec*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_vectors));
        var addresses = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_addresses));
        var data = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
        vectors[index] = new IoVec { Base = data + area.Offset, Length = (nuint)area.Count };
        Messages[index] = new MMsgHdr
        {
            Header = new MsgHdr
            {
                Name = addresses + (_sharedAddress ? 0 : index * SockAddrIn6.Size),
                NameLength = SockAddrIn6.Size,
                Iov = vectors + index,
                IovLength = 1,
            },
        };
    }

    /// <summary>
    /// For a send batch whose datagrams 0..count-1 are <see cref="Set"/>: rebuilds the messages so each run of
    /// datagrams of one size (the last of a run may be shorter) is one message with a UDP_SEGMENT control message,
    /// which the kernel sends as one GSO super-datagram. Returns the number of messages; message m carries
    /// <see cref="DatagramsOf"/>(m) datagrams starting at <see cref="FirstDatagramOf"/>(m).
    /// </summary>
    public int Coalesce(int count, int maxSegments, int maxBytes)
    {
        var vectors = (IoVec*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_vectors));
        var control = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_control!));
        var messages = 0;
        var i = 0;
        while (i < count)
        {
            var start = i;
            var size = vectors[i].Length;
            var total = size;
            i++;
            while (size > 0 && i < count && i - start < maxSegments && vectors[i].Length <= size && total + vectors[i].Length <= (nuint)maxBytes)
            {
                var shorter = vectors[i].Length < size;
                total += vectors[i++].Length;
                if (shorter)
                    break; // only the last segment may be short
            }
            SetMessage(messages, start, i - start, (ushort)size, control + (messages * SegmentControlSpace));
            messages++;
        }
        return messages;
    }

    /// <summary>One message per datagram from <paramref name="first"/> on (after a refused GSO send); returns how many.</summary>
    public int Separate(int first, int count)
    {
        for (var k = 0; k < count; k++)
            SetMessage(k, first + k, 1, 0, null);
        return count;
    }

    public int FirstDatagramOf(int message) => _firstDatagram[message];

    public int DatagramsOf(int message) => _datagrams[message];

    private void SetMessage(int message, int first, int datagrams, ushort segmentSize, byte* control)
    {
        var vectors = (IoVec*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_vectors));
        var addresses = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_addresses));
        _firstDatagram[message] = first;
        _datagrams[message] = datagrams;
        var header = new MsgHdr
        {
            Name = addresses,
            NameLength = SockAddrIn6.Size,
            Iov = vectors + first,
            IovLength = (nuint)datagrams,
        };
        if (datagrams > 1)
        {
            // struct cmsghdr { size_t cmsg_len; int cmsg_level; int cmsg_type; } then the uint16 segment size.
            *(nuint*)control = SegmentControlLength;
            *(int*)(control + 8) = SolUdp;
            *(int*)(control + 12) = UdpSegment;
            *(ushort*)(control + 16) = segmentSize;
            header.Control = control;
            header.ControlLength = SegmentControlSpace;
        }
        Messages[message] = new MMsgHdr { Header = header };
    }

    /// <summary>Releases the pins taken by <see cref="Set"/>; call once the system call has returned.</summary>
    public void Unpin()
    {
        for (var i = 0; i < _pinCount; i++)
            _pins[i].Free();
        _pinCount = 0;
    }
}
