using Portcullis.Core.Io;
using Portcullis.Linux.Interop;

namespace Portcullis.Linux.Udp;

/// <summary>
/// Opens <see cref="LinuxBind"/>s in the calling thread's network namespace: an AF_INET6 UDP socket with
/// IPV6_V6ONLY=0 bound to [::]:port, large kernel buffers and the requested SO_MARK.
/// </summary>
public sealed unsafe class LinuxBindFactory : IBindFactory
{
    private const int AfInet6 = 10;
    private const int SockDgram = 2;
    private const int SockNonblock = 0x800;
    private const int SockCloexec = 0x80000;
    private const int SolSocket = 1;
    private const int SoSndBuf = 7;
    private const int SoRcvBuf = 8;
    private const int SoSndBufForce = 32;
    private const int SoRcvBufForce = 33;
    private const int SoMark = 36;
    private const int IpProtoIpv6 = 41;
    private const int Ipv6V6Only = 26;

    /// <summary>Datagrams per recvmmsg/sendmmsg call. Defaults to 128, wireguard-go's batch size.</summary>
    public int BatchSize { get; init; } = 128;

    /// <summary>Native send batches, i.e. sender threads that can be in sendmmsg at once. Defaults to 4.</summary>
    public int SendSlots { get; init; } = 4;

    /// <summary>Socket send and receive buffer, in bytes. Defaults to 7 MiB, as wireguard-go.</summary>
    public int SocketBufferSize { get; init; } = 7 << 20;

    /// <summary>Use UDP GSO on send and UDP GRO on receive where the kernel has them. Defaults to true.</summary>
    public bool Offload { get; init; } = true;

    /// <summary>Told once per bind, from a sender thread, when the kernel refuses an offload at run time.</summary>
    public Action<string>? OffloadRefused { get; init; }

    private const int SolUdp = 17;
    private const int UdpSegment = 103;
    private const int UdpGro = 104;

    public IBind Open(ushort port, uint mark) => OpenBind(port, mark);

    /// <summary>As <see cref="Open"/>, typed, for callers that want the drop counters.</summary>
    public LinuxBind OpenBind(ushort port, uint mark)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(BatchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(SendSlots, 1);
        var fd = Libc.Socket(AfInet6, SockDgram | SockNonblock | SockCloexec, 0);
        if (fd < 0)
            throw Errno.LastFailure("socket AF_INET6 UDP");
        var handle = new WakeableFd(fd);
        try
        {
            SetInt(fd, IpProtoIpv6, Ipv6V6Only, 0, "set IPV6_V6ONLY=0");
            // FORCE ignores rmem_max/wmem_max but needs CAP_NET_ADMIN; without it take what the limits allow.
            if (!TrySetInt(fd, SolSocket, SoRcvBufForce, SocketBufferSize))
                TrySetInt(fd, SolSocket, SoRcvBuf, SocketBufferSize);
            if (!TrySetInt(fd, SolSocket, SoSndBufForce, SocketBufferSize))
                TrySetInt(fd, SolSocket, SoSndBuf, SocketBufferSize);
            if (mark != 0)
                SetInt(fd, SolSocket, SoMark, (int)mark, $"set SO_MARK {mark}");

            Span<byte> address = stackalloc byte[SockAddrIn6.Size];
            SockAddrIn6.Write(address, new UdpEndpoint(UInt128.Zero, port));
            fixed (byte* a = address)
            {
                if (Libc.Bind(fd, a, SockAddrIn6.Size) < 0)
                    throw Errno.LastFailure($"bind UDP [::]:{port}");
                var length = (uint)SockAddrIn6.Size;
                if (Libc.GetSockName(fd, a, &length) < 0)
                    throw Errno.LastFailure("getsockname");
            }
            SockAddrIn6.TryRead(address, out var bound);
            return new LinuxBind(handle, bound.Port, BatchSize, SendSlots,
                segmentation: Offload && HasOption(fd, SolUdp, UdpSegment),
                coalescing: Offload && TrySetInt(fd, SolUdp, UdpGro, 1),
                OffloadRefused);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>True when the kernel knows the option (UDP_SEGMENT: 4.18 and later).</summary>
    private static bool HasOption(int fd, int level, int name)
    {
        var value = 0;
        var length = (uint)sizeof(int);
        return Libc.GetSockOpt(fd, level, name, &value, &length) == 0;
    }

    private static bool TrySetInt(int fd, int level, int name, int value) =>
        Libc.SetSockOpt(fd, level, name, &value, sizeof(int)) == 0;

    private static void SetInt(int fd, int level, int name, int value, string operation)
    {
        if (!TrySetInt(fd, level, name, value))
            throw Errno.LastFailure(operation);
    }
}
