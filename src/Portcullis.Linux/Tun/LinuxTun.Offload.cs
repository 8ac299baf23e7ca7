using Portcullis.Core.Io;
using Portcullis.Linux.Interop;
using Portcullis.Linux.Tun.Offload;

namespace Portcullis.Linux.Tun;

// The IFF_VNET_HDR half of LinuxTun: every read and write starts with a virtio_net_hdr.
// Read: one read() takes a whole super-packet (up to 64 KiB) into a private buffer; its segments then fill the
// caller's areas one by one, and what does not fit this call waits for the next (nothing is dropped for want of
// room). Write: the batch is planned by TcpCoalescer; each run of one TCP flow goes to the kernel as one GSO
// super-packet, everything else alone behind an all-zero header (writev, no copy).
public sealed unsafe partial class LinuxTun
{
    private const short IffVnetHdr = 0x4000;
    private const nuint TunSetOffload = 0x400454d0;

    private readonly byte[]? _superPacket;
    private readonly byte[]? _merged;
    private readonly TcpCoalescer _coalescer = new();
    private VirtioNetHeader _pendingHeader;
    private int _pendingLength;
    private int _pendingHeaderLength;
    private int _pendingCount;
    private int _pendingNext;
    private long _malformed;
    private long _superPackets;
    private long _mergedPackets;

    /// <summary>Whether the vnet header is on and which offloads the kernel granted.</summary>
    public TunOffloads Offloads { get; }

    /// <summary>Reads whose vnet header did not describe the packet (dropped).</summary>
    public long OffloadMalformed => Interlocked.Read(ref _malformed);

    /// <summary>Super-packets read and split.</summary>
    public long SuperPacketsRead => Interlocked.Read(ref _superPackets);

    /// <summary>Super-packets written (each several packets merged).</summary>
    public long SuperPacketsWritten => Interlocked.Read(ref _mergedPackets);

    /// <summary>Asks for every offload, then for less as the kernel refuses (older kernels have no USO).</summary>
    private static TunOffloads NegotiateOffloads(int fd)
    {
        const uint tcp = TunOffloads.Checksum | TunOffloads.Tso4 | TunOffloads.Tso6 | TunOffloads.TsoEcn;
        const uint all = tcp | TunOffloads.Uso4 | TunOffloads.Uso6;
        foreach (var flags in (ReadOnlySpan<uint>)[all, tcp, TunOffloads.Checksum])
        {
            if (Libc.Ioctl(fd, TunSetOffload, (void*)(nuint)flags) == 0)
                return new TunOffloads(true, flags, all & ~flags);
        }
        // The vnet header alone still lets writes carry merged super-packets.
        return new TunOffloads(true, 0, all);
    }

    private int ReadReadyVnet(Span<ArraySegment<byte>> packets)
    {
        var buffer = _superPacket!;
        var count = 0;
        while (count < packets.Length)
        {
            var area = packets[count];
            if (area.Array is null || area.Count == 0)
                throw new ArgumentException($"Buffer {count} is empty.", nameof(packets));
            if (_pendingNext < _pendingCount)
            {
                var length = GsoSplitter.SegmentLength(_pendingLength, _pendingHeader, _pendingHeaderLength, _pendingNext);
                if (length > area.Count)
                {
                    // Kept for the next call: the caller sizes its areas by the MTU, raised here to fit.
                    OnMtuChanged(Math.Max(Mtu, length));
                    return count > 0 ? count : IoResult.NothingFitted;
                }
                var packet = buffer.AsSpan(VirtioNetHeader.Size, _pendingLength);
                GsoSplitter.WriteSegment(packet, _pendingHeader, _pendingHeaderLength, _pendingNext, area.AsSpan());
                packets[count++] = new ArraySegment<byte>(area.Array, area.Offset, length);
                _pendingNext++;
                continue;
            }

            nint n;
            fixed (byte* start = buffer)
                n = Libc.Read(_fd.Fd, start, (nuint)buffer.Length);
            if (n > VirtioNetHeader.Size)
            {
                var header = VirtioNetHeader.Read(buffer);
                var length = (int)n - VirtioNetHeader.Size;
                var segments = GsoSplitter.SegmentCount(buffer.AsSpan(VirtioNetHeader.Size, length), header, out var headerLength);
                if (segments == 0)
                {
                    Interlocked.Increment(ref _malformed);
                    continue;
                }
                if (segments > 1 || header.GsoType != VirtioNetHeader.GsoNone)
                    Interlocked.Increment(ref _superPackets);
                _pendingHeader = header;
                _pendingLength = length;
                _pendingHeaderLength = headerLength;
                _pendingCount = segments;
                _pendingNext = 0;
                continue;
            }
            if (n >= 0)
            {
                Interlocked.Increment(ref _malformed);
                continue;
            }
            var errno = Errno.Last;
            if (errno == Errno.EINTR)
                continue;
            if (errno == Errno.EAGAIN)
                return count > 0 ? count : NothingReady;
            if (errno == Errno.EBADFD)
            {
                Volatile.Write(ref _removed, 1);
                return count > 0 ? count : IoResult.Closed;
            }
            Interlocked.Increment(ref _readErrors);
            if (count == 0)
                throw Errno.Failure($"read tun {Name}", errno);
            return count;
        }
        return count;
    }

    private int WriteVnet(ReadOnlySpan<ArraySegment<byte>> packets)
    {
        _coalescer.Plan(packets);
        var written = 0;
        for (var i = 0; i < packets.Length; i++)
        {
            var packet = packets[i];
            if (packet.Array is null || packet.Count == 0)
            {
                Interlocked.Increment(ref _writeDrops);
                continue;
            }
            if (_coalescer.IsMerged(i))
                continue;
            var group = _coalescer.GroupSize(i);
            if (group > 1)
            {
                var length = _coalescer.Build(packets, i, _merged);
                bool ok;
                fixed (byte* start = _merged)
                    ok = WriteAll(start, length);
                if (ok)
                {
                    written += group;
                    Interlocked.Increment(ref _mergedPackets);
                }
                else
                {
                    Interlocked.Add(ref _writeDrops, group);
                }
                continue;
            }
            if (WriteWithPlainHeader(packet))
                written++;
            else
                Interlocked.Increment(ref _writeDrops);
        }
        return written;
    }

    private bool WriteAll(byte* start, int length)
    {
        while (true)
        {
            var n = Libc.Write(_fd.Fd, start, (nuint)length);
            if (n >= 0)
                return n == length;
            if (Errno.Last != Errno.EINTR)
                return false;
        }
    }

    /// <summary>One packet behind an all-zero vnet header (no offload asked), without copying it.</summary>
    private bool WriteWithPlainHeader(ArraySegment<byte> packet)
    {
        var header = stackalloc byte[VirtioNetHeader.Size];
        new Span<byte>(header, VirtioNetHeader.Size).Clear();
        fixed (byte* start = &packet.Array![packet.Offset])
        {
            var vectors = stackalloc IoVec[2];
            vectors[0] = new IoVec { Base = header, Length = VirtioNetHeader.Size };
            vectors[1] = new IoVec { Base = start, Length = (nuint)packet.Count };
            while (true)
            {
                var n = Libc.Writev(_fd.Fd, vectors, 2);
                if (n >= 0)
                    return n == VirtioNetHeader.Size + packet.Count;
                if (Errno.Last != Errno.EINTR)
                    return false;
            }
        }
    }
}
