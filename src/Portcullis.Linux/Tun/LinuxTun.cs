using System.Runtime.InteropServices;
using Portcullis.Core.Io;
using Portcullis.Linux.Interop;

namespace Portcullis.Linux.Tun;

/// <summary>
/// A Linux TUN device (IFF_TUN | IFF_NO_PI): whole IP packets through /dev/net/tun.
/// Read: read until EAGAIN or the batch is full; when nothing is ready, poll the device and the
/// wake eventfd, so Dispose can end a blocked Read. Write: one write() per packet; refusals are counted.
/// The interface lives exactly as long as the descriptor: Dispose closes it and the kernel removes the link.
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
    private int _closed;
    private long _readErrors;
    private long _writeDrops;

    private LinuxTun(WakeableFd fd, string name, int mtu)
    {
        _fd = fd;
        Name = name;
        Mtu = mtu;
    }

    public string Name { get; }

    public int Mtu { get; }

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
            return new LinuxTun(handle, actualName, mtu);
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
                if (n > 0)
                    return n;
                if (!_fd.WaitReadable())
                    return 0;
            }
            return 0;
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

    private int ReadReady(Span<ArraySegment<byte>> packets)
    {
        var count = 0;
        while (count < packets.Length)
        {
            var area = packets[count];
            if (area.Array is null || area.Count < Mtu)
                throw new ArgumentException($"Buffer {count} holds less than the MTU ({Mtu} bytes).", nameof(packets));
            nint n;
            fixed (byte* start = &area.Array[area.Offset])
                n = Libc.Read(_fd.Fd, start, (nuint)area.Count);
            if (n > 0)
            {
                packets[count++] = new ArraySegment<byte>(area.Array, area.Offset, (int)n);
                continue;
            }
            var errno = n < 0 ? Errno.Last : Errno.EIO;
            if (n < 0 && errno == Errno.EINTR)
                continue;
            if (errno == Errno.EAGAIN)
                return count;
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

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
            return;
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
