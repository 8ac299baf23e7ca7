using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Portcullis.Core.Io;
using Portcullis.Linux.Interop;

namespace Portcullis.Linux.Tun;

/// <summary>
/// A Linux TUN device (IFF_TUN | IFF_NO_PI): whole IP packets through /dev/net/tun.
/// Read: read until EAGAIN or the batch is full; when nothing is ready, poll the device and the
/// wake eventfd, so Dispose can end a blocked Read. Write: one write() per packet; refusals are counted.
/// The interface lives exactly as long as the descriptor: Dispose closes it and the kernel removes the link.
/// It may move to another network namespace meanwhile (wireguard.com/netns); the descriptor keeps working there,
/// and <see cref="Mtu"/> follows `ip link set IF mtu N` wherever it is (<see cref="TunLinkWatcher"/>).
/// </summary>
public sealed unsafe class LinuxTun : ITun
{
    // Room for later: IFF_VNET_HDR with TUNSETOFFLOAD (TSO/GRO super-packets) changes Read/Write framing.
    private const short IffTun = 0x0001;
    private const short IffNoPi = 0x1000;
    private const nuint TunSetIff = 0x400454ca;
    private const nuint SiocSIfMtu = 0x8922;
    private const int ORdwr = 0x2;
    private const int ONonblock = 0x800;
    private const int OCloexec = 0x80000;
    private const int AfInet = 2;
    private const int SockDgram = 2;
    private const int SockCloexec = 0x80000;

    private readonly WakeableFd _fd;
    private TunLinkWatcher? _watcher;
    private int _mtu;
    private int _closed;
    private int _removed;
    private long _readErrors;
    private long _writeDrops;

    private long _truncated;

    private LinuxTun(WakeableFd fd, string name, int mtu)
    {
        _fd = fd;
        Name = name;
        _mtu = mtu;
    }

    /// <summary>The name the interface was created with (it keeps it when moved to another namespace).</summary>
    public string Name { get; }

    /// <summary>The interface's MTU now: what it was created with, then whatever `ip link set IF mtu N` made it.</summary>
    public int Mtu => Volatile.Read(ref _mtu);

    /// <summary>
    /// Packets larger than the buffer they were read into (the MTU grew before the reader's buffers did): dropped,
    /// as the sender would see on a link of the smaller MTU. <see cref="Mtu"/> is raised to fit the next one.
    /// </summary>
    public long Truncated => Interlocked.Read(ref _truncated);

    /// <summary>
    /// True once the interface was deleted (by <c>ip link del</c>, or with the namespace it lived in); Read then
    /// returns 0. Moving the interface to another namespace is not a deletion: the descriptor keeps working.
    /// </summary>
    public bool IsRemoved => Volatile.Read(ref _removed) != 0;

    /// <summary>Reads that failed with an error other than "nothing ready".</summary>
    public long ReadErrors => Interlocked.Read(ref _readErrors);

    /// <summary>Packets the kernel refused on Write (bad IP header, interface down, ...).</summary>
    public long WriteDrops => Interlocked.Read(ref _writeDrops);

    /// <summary>
    /// Creates TUN interface <paramref name="name"/> in the calling thread's network namespace and sets its MTU.
    /// The interface is left down; bring it up with <see cref="Links.Link.SetUp"/>.
    /// </summary>
    public static LinuxTun Create(string name, int mtu = 1420)
    {
        InterfaceName.Validate(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(mtu, 68);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(mtu, 65535);

        var fd = Libc.Open("/dev/net/tun", ORdwr | ONonblock | OCloexec);
        if (fd < 0)
            throw Errno.LastFailure("open /dev/net/tun");
        var handle = new WakeableFd(fd);
        try
        {
            Span<byte> ifreq = stackalloc byte[InterfaceName.IfReqSize];
            ifreq.Clear();
            InterfaceName.WriteTo(ifreq, name);
            var flags = (short)(IffTun | IffNoPi);
            MemoryMarshal.Write(ifreq[16..], in flags);
            fixed (byte* request = ifreq)
            {
                if (Libc.Ioctl(fd, TunSetIff, request) < 0)
                    throw Errno.LastFailure($"create tun {name} (TUNSETIFF)");
            }
            var actualName = InterfaceName.ReadFrom(ifreq);
            SetMtu(actualName, mtu);
            var tun = new LinuxTun(handle, actualName, mtu);
            tun._watcher = new TunLinkWatcher(handle, actualName, tun.OnMtuChanged);
            return tun;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    public int Read(Span<ArraySegment<byte>> packets)
    {
        if (packets.IsEmpty)
            throw new ArgumentException("At least one buffer is needed.", nameof(packets));
        var added = false;
        try
        {
            _fd.DangerousAddRef(ref added);
            while (Volatile.Read(ref _closed) == 0)
            {
                var n = ReadReady(packets);
                if (n != NothingReady)
                    return n;
                if (!_fd.WaitReadable())
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

    private const int NothingReady = int.MinValue;

    /// <summary>Reads what is ready: a count, <see cref="IoResult.NothingFitted"/>, <see cref="IoResult.Closed"/>, or <see cref="NothingReady"/>.</summary>
    private int ReadReady(Span<ArraySegment<byte>> packets)
    {
        var count = 0;
        while (count < packets.Length)
        {
            var area = packets[count];
            if (area.Array is null || area.Count == 0)
                throw new ArgumentException($"Buffer {count} is empty.", nameof(packets));
            nint n;
            fixed (byte* start = &area.Array[area.Offset])
                n = Libc.Read(_fd.Fd, start, (nuint)area.Count);
            if (n > 0)
            {
                // The kernel cuts a packet to the buffer silently; only the IP header still tells its real size.
                var declared = n == area.Count ? DeclaredLength(area) : 0;
                if (declared > n)
                {
                    Interlocked.Increment(ref _truncated);
                    OnMtuChanged(Math.Max(Mtu, declared));
                    // Hand back what we have: the caller sizes its areas by the MTU before the next read.
                    return count > 0 ? count : IoResult.NothingFitted;
                }
                packets[count++] = new ArraySegment<byte>(area.Array, area.Offset, (int)n);
                continue;
            }
            var errno = n < 0 ? Errno.Last : Errno.EIO;
            if (n < 0 && errno == Errno.EINTR)
                continue;
            if (errno == Errno.EAGAIN)
                return count > 0 ? count : NothingReady;
            if (errno == Errno.EBADFD)
            {
                // The kernel detached us: the interface was deleted (a move to another namespace never does this).
                Volatile.Write(ref _removed, 1);
                return count > 0 ? count : IoResult.Closed;
            }
            Interlocked.Increment(ref _readErrors);
            // With nothing read, a persistent error would spin the poll loop: report it instead.
            if (count == 0)
                throw Errno.Failure($"read tun {Name}", errno);
            return count;
        }
        return count;
    }

    public int Write(ReadOnlySpan<ArraySegment<byte>> packets)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _closed) != 0, this);
        var added = false;
        try
        {
            _fd.DangerousAddRef(ref added);
            var written = 0;
            foreach (var packet in packets)
            {
                if (packet.Array is null || packet.Count == 0)
                {
                    Interlocked.Increment(ref _writeDrops);
                    continue;
                }
                if (WriteOne(packet))
                    written++;
                else
                    Interlocked.Increment(ref _writeDrops);
            }
            return written;
        }
        finally
        {
            if (added)
                _fd.DangerousRelease();
        }
    }

    private bool WriteOne(ArraySegment<byte> packet)
    {
        fixed (byte* start = &packet.Array![packet.Offset])
        {
            while (true)
            {
                var n = Libc.Write(_fd.Fd, start, (nuint)packet.Count);
                if (n >= 0)
                    return n == packet.Count;
                var errno = Errno.Last;
                if (errno == Errno.EINTR)
                    continue;
                // EAGAIN (queue full), EIO (interface down), EINVAL (not an IP packet): drop it.
                return false;
            }
        }
    }

    /// <summary>The length an IP packet's header declares, or 0 when it is not an IP packet.</summary>
    private static int DeclaredLength(ReadOnlySpan<byte> packet) => (packet[0] >> 4) switch
    {
        4 when packet.Length >= 4 => BinaryPrimitives.ReadUInt16BigEndian(packet[2..]),
        6 when packet.Length >= 6 => 40 + BinaryPrimitives.ReadUInt16BigEndian(packet[4..]),
        _ => 0,
    };

    private void OnMtuChanged(int mtu) => Volatile.Write(ref _mtu, mtu);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
            return;
        _watcher?.Dispose();
        _fd.Wake();
        // Closes now, or when a reader still inside Read lets go; closing removes the interface.
        _fd.Dispose();
    }

    private static void SetMtu(string name, int mtu)
    {
        var socket = Libc.Socket(AfInet, SockDgram | SockCloexec, 0);
        if (socket < 0)
            throw Errno.LastFailure("socket for SIOCSIFMTU");
        try
        {
            Span<byte> ifreq = stackalloc byte[InterfaceName.IfReqSize];
            ifreq.Clear();
            InterfaceName.WriteTo(ifreq, name);
            MemoryMarshal.Write(ifreq[16..], in mtu);
            fixed (byte* request = ifreq)
            {
                if (Libc.Ioctl(socket, SiocSIfMtu, request) < 0)
                    throw Errno.LastFailure($"set mtu {mtu} on {name} (SIOCSIFMTU)");
            }
        }
        finally
        {
            Libc.Close(socket);
        }
    }
}
