using System.Runtime.InteropServices;
using Portcullis.Linux.Interop;
using Portcullis.Linux.Links;

namespace Portcullis.Linux.Tun;

/// <summary>
/// Follows a TUN interface's MTU wherever the interface is. `ip link set IF netns NS` (wireguard.com/netns) moves the
/// interface out of the namespace that made it while the descriptor keeps working, so the watcher asks the descriptor
/// where its interface lives (TUNGETDEVNETNS) and reads the MTU there by the interface's current name (TUNGETIFF),
/// again on every rtnetlink link event.
/// It must hold nothing of another namespace: a socket or a thread inside it would keep it alive after
/// `ip netns del`, and with it the interface, whose deletion must end the daemon. So its one netlink socket stays at
/// home and hears the other namespace's events through a namespace id (NETLINK_LISTEN_ALL_NSID; the id is assigned
/// at home if the namespace has none, as `ip netns set NS auto` does), and it reads the MTU there from a thread that
/// enters the namespace for that moment and comes straight back. Where events cannot be heard so (no
/// CAP_NET_BROADCAST) it looks once a second instead; where it may not enter (no CAP_SYS_ADMIN, as under a unit with
/// CAP_NET_ADMIN only) it follows the interface at home only, and the reader learns larger MTUs from truncated
/// packets (<see cref="LinuxTun"/>).
/// </summary>
internal sealed unsafe class TunLinkWatcher : IDisposable
{
    private const nuint TunGetIff = 0x800454d2;
    private const nuint TunGetDevNetNs = 0x54e3;
    private const nuint SiocGIfMtu = 0x8921;
    private const int CloneNewNet = 0x40000000;
    private const int SockDgram = 2;
    private const int SockRaw = 3;
    private const int SockCloexec = 0x80000;
    private const int SockNonblock = 0x800;
    private const int AfInet = 2;
    private const uint RtmgrpLink = 0x1;
    private const short PollIn = 0x001;
    private const int EfdCloexec = 0x80000;
    private const int EfdNonblock = 0x800;
    private const int ORdonly = 0;
    private const int OCloexec = 0x80000;
    private const int AwayPollMilliseconds = 1000;
    private const int NetlinkListenAllNsid = 8;
    private const ushort RtmNewNsid = 88;
    private const ushort NetnsaNsid = 1;
    private const ushort NetnsaFd = 3;

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
        // Its own thread: entering another namespace changes only the calling thread, and this one does nothing else.
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
        var home = Libc.Open("/proc/thread-self/ns/net", ORdonly | OCloexec);
        var events = OpenLinkEvents(out var hearsOthers);
        var homeName = NamespaceOf(home);
        var canEnter = home >= 0;
        try
        {
            Watch(home, homeName, events, hearsOthers, ref canEnter);
        }
        catch (LinuxCallException)
        {
            // Nothing more to follow with; the reader's truncation check still keeps packets whole.
        }
        finally
        {
            if (events >= 0)
                Libc.Close(events);
            if (home >= 0)
                Libc.Close(home);
        }
    }

    private void Watch(int home, string? homeName, int events, bool hearsOthers, ref bool canEnter)
    {
        while (!_closed && events >= 0)
        {
            var nsFd = TunIoctl(TunGetDevNetNs, null, out var errno);
            if (nsFd < 0 && errno is Errno.EBADFD or Errno.EBADF)
                return; // deleted (or closed): the reader sees it too
            bool atHome;
            var heard = hearsOthers;
            try
            {
                // Without TUNGETDEVNETNS (kernels before 5.2) assume the interface stays where it was made.
                atHome = nsFd < 0 || NamespaceOf(nsFd) == homeName;
                if (!atHome && heard)
                    heard = HasIdAtHome(nsFd);
                var mtu = atHome ? ReadMtu(events) : canEnter ? ReadMtuAway(nsFd, home, ref canEnter) : null;
                if (mtu is int value)
                    _mtuChanged(value);
            }
            finally
            {
                if (nsFd >= 0)
                    Libc.Close(nsFd);
            }
            if (!WaitForLinkEvent(events, atHome || heard || !canEnter ? -1 : AwayPollMilliseconds))
                return;
        }
    }

    /// <summary>Enters the interface's namespace just to read its MTU, and comes back; null if it cannot.</summary>
    private int? ReadMtuAway(int nsFd, int home, ref bool canEnter)
    {
        if (Libc.SetNs(nsFd, CloneNewNet) < 0)
        {
            canEnter = false;
            return null;
        }
        var socket = Libc.Socket(AfInet, SockDgram | SockCloexec, 0);
        if (Libc.SetNs(home, CloneNewNet) < 0)
        {
            // Stuck away: end the watcher, as its thread would keep that namespace alive.
            if (socket >= 0)
                Libc.Close(socket);
            throw Errno.LastFailure("return to the home network namespace");
        }
        if (socket < 0)
            return null;
        try
        {
            return ReadMtu(socket);
        }
        finally
        {
            Libc.Close(socket);
        }
    }

    /// <summary>The interface's MTU, asked in <paramref name="socket"/>'s namespace by its current name; null when it is not there.</summary>
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

    /// <summary>
    /// Blocks until rtnetlink reports a link change at home (any: they are rare), or <paramref name="timeoutMilliseconds"/>
    /// pass, and drains the socket; false once closed.
    /// </summary>
    private bool WaitForLinkEvent(int netlink, int timeoutMilliseconds)
    {
        var fds = stackalloc PollFd[2];
        while (true)
        {
            fds[0] = new PollFd { Fd = netlink, Events = PollIn };
            fds[1] = new PollFd { Fd = _wakeFd, Events = PollIn };
            var ready = Libc.Poll(fds, 2, timeoutMilliseconds);
            if (ready < 0)
            {
                if (Errno.Last == Errno.EINTR)
                    continue;
                return false;
            }
            if (fds[1].ReturnedEvents != 0 || _closed)
                return false;
            if (ready == 0)
                return true;
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

    /// <summary>
    /// Makes sure the namespace <paramref name="nsFd"/> has an id at home, so its link events reach our socket; false if
    /// it cannot have one. The id holds no reference: it goes with the namespace.
    /// </summary>
    private static bool HasIdAtHome(int nsFd)
    {
        var request = new NetlinkRequest(RtmNewNsid, 0);
        request.Append(1); // struct rtgenmsg: AF_UNSPEC
        request.AddUInt32(NetnsaFd, (uint)nsFd);
        request.AddUInt32(NetnsaNsid, unchecked((uint)-1)); // NETNSA_NSID_NOT_ASSIGNED: the kernel picks one
        try
        {
            NetlinkSocket.Execute(request, "assign a namespace id");
            return true;
        }
        catch (LinuxCallException e) when (e.Errno == Errno.EEXIST)
        {
            return true;
        }
        catch (LinuxCallException)
        {
            return false;
        }
    }

    /// <summary>
    /// A netlink socket at home subscribed to link events (it also serves for SIOCGIFMTU there), and where allowed to
    /// other namespaces' events too (<paramref name="hearsOthers"/>); -1 if none.
    /// </summary>
    private static int OpenLinkEvents(out bool hearsOthers)
    {
        hearsOthers = false;
        var fd = Libc.Socket(RtNetlink.AfNetlink, SockRaw | SockCloexec | SockNonblock, RtNetlink.NetlinkRoute);
        if (fd < 0)
            return -1;
        var one = 1;
        hearsOthers = Libc.SetSockOpt(fd, RtNetlink.SolNetlink, NetlinkListenAllNsid, &one, sizeof(int)) == 0;
        // struct sockaddr_nl: family, padding, port id (0: the kernel picks), multicast groups.
        Span<byte> address = stackalloc byte[12];
        address.Clear();
        MemoryMarshal.Write(address, (ushort)RtNetlink.AfNetlink);
        MemoryMarshal.Write(address[8..], RtmgrpLink);
        fixed (byte* a = address)
        {
            if (Libc.Bind(fd, a, (uint)address.Length) < 0)
            {
                Libc.Close(fd);
                return -1;
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
    private static string? NamespaceOf(int fd)
    {
        if (fd < 0)
            return null;
        try
        {
            return new FileInfo($"/proc/self/fd/{fd}").LinkTarget;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
