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
    private int _pinCount;

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

    /// <summary>Releases the pins taken by <see cref="Set"/>; call once the system call has returned.</summary>
    public void Unpin()
    {
        for (var i = 0; i < _pinCount; i++)
            _pins[i].Free();
        _pinCount = 0;
    }
}
