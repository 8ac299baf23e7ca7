using System.Runtime.InteropServices;
using Portcullis.Linux.Interop;
using Portcullis.Linux.Links;

namespace Portcullis.Linux.Tun;

/// <summary>
/// Follows a TUN interface's MTU wherever the interface is. `ip link set IF netns NS` (wireguard.com/netns) moves
/// the interface out of the namespace that created it while the descriptor keeps working, so the watcher asks the
/// descriptor where its interface lives now (TUNGETDEVNETNS), joins that namespace on its own thread, and listens to
/// rtnetlink link events there. On any event it reads the MTU again (by the interface's current name, TUNGETIFF);
/// when the interface moves away, the old namespace reports it gone and the watcher follows it.
/// Without the right to join a namespace (a unit with CAP_NET_ADMIN only), the interface is followed in ours only,
/// and the reader learns larger MTUs from truncated packets instead (<see cref="LinuxTun"/>).
/// </summary>
internal sealed unsafe class TunLinkWatcher : IDisposable
{
    private const nuint TunGetIff = 0x800454d2;
    private const nuint TunGetDevNetNs = 0x54e3;
    private const nuint SiocGIfMtu = 0x8921;
    private const int CloneNewNet = 0x40000000;
    private const int SockRaw = 3;
    private const int SockCloexec = 0x80000;
    private const int SockNonblock = 0x800;
    private const uint RtmgrpLink = 0x1;
    private const short PollIn = 0x001;
    private const int EfdCloexec = 0x80000;
    private const int EfdNonblock = 0x800;

    private readonly WakeableFd _tun;
    private readonly Action<int> _mtuChanged;
    private readonly int _wakeFd;
    private readonly Thread _thread;
    private volatile bool _closed;

    public TunLinkWatcher(WakeableFd tun, string name, Action<int> mtuChanged)
    {
        _tun = tun;
        _mtuChanged = mtuChanged;
        _wakeFd = Libc.EventFd(0, EfdCloexec | EfdNonblock);
        if (_wakeFd < 0)
            throw Errno.LastFailure("eventfd");
        // Its own thread: joining another namespace changes only the calling thread, and this one does nothing else.
        _thread = new Thread(Run) { IsBackground = true, Name = $"tun-link {name}" };
        _thread.Start();
    }

    public void Dispose()
    {
        if (_closed)
            return;
        _closed = true;
        ulong one = 1;
        _ = Libc.Write(_wakeFd, (byte*)&one, sizeof(ulong));
        if (Thread.CurrentThread != _thread)
            _thread.Join();
        Libc.Close(_wakeFd);
    }

    private void Run()
    {
        var netlink = -1;
        string? here = null;
        var followOthers = true;
        try
        {
            while (!_closed)
            {
                if (!Locate(ref here, ref netlink, ref followOthers))
                    return;
                if (ReadMtu(netlink) is int mtu)
                    _mtuChanged(mtu);
                if (!WaitForLinkEvent(netlink))
                    return;
            }
        }
        catch (LinuxCallException)
        {
            // Nothing to watch with (no netlink socket): the reader's truncation check still keeps packets whole.
        }
        finally
        {
            if (netlink >= 0)
                Libc.Close(netlink);
        }
    }

    /// <summary>
    /// Makes sure <paramref name="netlink"/> listens in the interface's namespace; false once the interface is gone
    /// (the descriptor reports EBADFD) or the watcher closed.
    /// </summary>
    private bool Locate(ref string? here, ref int netlink, ref bool followOthers)
    {
        here ??= NamespaceOf("/proc/thread-self/ns/net");
        var nsFd = TunIoctl(TunGetDevNetNs, null, out var errno);
        if (nsFd < 0)
        {
            if (errno is Errno.EBADFD or Errno.EBADF)
                return false;
            // A kernel without TUNGETDEVNETNS (before 5.2): assume the interface stays where it was made.
        }
        else
        {
            try
            {
                var there = NamespaceOf($"/proc/self/fd/{nsFd}");
                if (there != here && followOthers)
                {
                    if (Libc.SetNs(nsFd, CloneNewNet) == 0)
                    {
                        here = there;
                        if (netlink >= 0)
                            Libc.Close(netlink);
                        netlink = -1;
                    }
                    else
                    {
                        followOthers = false;
                    }
                }
            }
            finally
            {
                Libc.Close(nsFd);
            }
        }
        if (netlink < 0)
            netlink = OpenLinkEvents();
        return !_closed;
    }

    /// <summary>The interface's MTU, asked in the socket's namespace by its current name; null when it is not there.</summary>
    private int? ReadMtu(int socket)
    {
        Span<byte> ifreq = stackalloc byte[InterfaceName.IfReqSize];
        ifreq.Clear();
        fixed (byte* request = ifreq)
        {
            if (TunIoctl(TunGetIff, request, out _) < 0)
                return null;
            // The name is the kernel's own and unique in its namespace; clear the flags before reusing the ifreq.
            ifreq[16..].Clear();
            if (Libc.Ioctl(socket, SiocGIfMtu, request) < 0)
                return null;
        }
        return MemoryMarshal.Read<int>(ifreq[16..]);
    }

    /// <summary>Blocks until rtnetlink reports a link change (any: they are rare) and drains the socket; false once closed.</summary>
    private bool WaitForLinkEvent(int netlink)
    {
        var fds = stackalloc PollFd[2];
        while (true)
        {
            fds[0] = new PollFd { Fd = netlink, Events = PollIn };
            fds[1] = new PollFd { Fd = _wakeFd, Events = PollIn };
            var ready = Libc.Poll(fds, 2, -1);
            if (ready < 0)
            {
                if (Errno.Last == Errno.EINTR)
                    continue;
                return false;
            }
            if (fds[1].ReturnedEvents != 0 || _closed)
                return false;
            if (fds[0].ReturnedEvents != 0)
                break;
        }
        var buffer = stackalloc byte[8192];
        // ENOBUFS (events lost while we were busy) needs nothing more: the MTU is read again anyway.
        while (Libc.Recv(netlink, buffer, 8192, 0) > 0 || Errno.Last is Errno.EINTR or Errno.ENOBUFS)
        {
        }
        return true;
    }

    private static int OpenLinkEvents()
    {
        var fd = Libc.Socket(RtNetlink.AfNetlink, SockRaw | SockCloexec | SockNonblock, RtNetlink.NetlinkRoute);
        if (fd < 0)
            throw Errno.LastFailure("netlink socket for link events");
        // struct sockaddr_nl: family, padding, port id (0: the kernel picks), multicast groups.
        Span<byte> address = stackalloc byte[12];
        address.Clear();
        MemoryMarshal.Write(address, (ushort)RtNetlink.AfNetlink);
        MemoryMarshal.Write(address[8..], RtmgrpLink);
        fixed (byte* a = address)
        {
            if (Libc.Bind(fd, a, (uint)address.Length) < 0)
            {
                var errno = Errno.Last;
                Libc.Close(fd);
                throw Errno.Failure("subscribe to link events", errno);
            }
        }
        return fd;
    }

    /// <summary>An ioctl on the TUN descriptor, held open for the call; EBADF once the device is closed.</summary>
    private int TunIoctl(nuint request, void* argument, out int errno)
    {
        var added = false;
        try
        {
            _tun.DangerousAddRef(ref added);
            var result = Libc.Ioctl(_tun.Fd, request, argument);
            errno = result < 0 ? Errno.Last : 0;
            return result;
        }
        catch (ObjectDisposedException)
        {
            errno = Errno.EBADF;
            return -1;
        }
        finally
        {
            if (added)
                _tun.DangerousRelease();
        }
    }

    /// <summary>A namespace's identity as the kernel names it ("net:[4026531840]").</summary>
    private static string? NamespaceOf(string link)
    {
        try
        {
            return new FileInfo(link).LinkTarget;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
