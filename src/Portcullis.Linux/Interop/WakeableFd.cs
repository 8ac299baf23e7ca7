using System.Runtime.InteropServices;

namespace Portcullis.Linux.Interop;

/// <summary>
/// A non-blocking file descriptor paired with an eventfd, so a thread blocked waiting on the descriptor
/// can be woken when the owner closes it.
/// As a SafeHandle it is reference counted: callers AddRef around each use, and the descriptors are
/// closed only once the last user has let go, so a closed number is never reused under a running call.
/// </summary>
internal sealed unsafe class WakeableFd : SafeHandle
{
    private const short PollIn = 0x001;
    private const short PollOut = 0x004;
    private const int EfdCloexec = 0x80000;
    private const int EfdNonblock = 0x800;

    private readonly int _wakeFd;

    /// <summary>Takes ownership of <paramref name="fd"/> (closed here on failure too).</summary>
    public WakeableFd(int fd)
        : base(invalidHandleValue: -1, ownsHandle: true)
    {
        _wakeFd = Libc.EventFd(0, EfdCloexec | EfdNonblock);
        if (_wakeFd < 0)
        {
            var errno = Errno.Last;
            Libc.Close(fd);
            throw Errno.Failure("eventfd", errno);
        }
        SetHandle(fd);
    }

    public override bool IsInvalid => handle == -1;

    /// <summary>The descriptor number; valid only while a reference is held.</summary>
    public int Fd => (int)handle;

    /// <summary>Makes every present and future wait return false. Safe to call more than once.</summary>
    public void Wake()
    {
        ulong one = 1;
        // A full counter (EAGAIN) still leaves the eventfd readable, which is all waiters need.
        _ = Libc.Write(_wakeFd, (byte*)&one, sizeof(ulong));
    }

    /// <summary>Blocks until the descriptor is readable; false once woken for close.</summary>
    public bool WaitReadable() => Wait(PollIn);

    /// <summary>Blocks until the descriptor is writable; false once woken for close.</summary>
    public bool WaitWritable() => Wait(PollOut);

    private bool Wait(short events)
    {
        var fds = stackalloc PollFd[2];
        while (true)
        {
            fds[0] = new PollFd { Fd = (int)handle, Events = events };
            fds[1] = new PollFd { Fd = _wakeFd, Events = PollIn };
            var ready = Libc.Poll(fds, 2, -1);
            if (ready < 0)
            {
                var errno = Errno.Last;
                // The runtime suspends threads with signals, so EINTR is routine here.
                if (errno == Errno.EINTR)
                    continue;
                throw Errno.Failure("poll", errno);
            }
            if (fds[1].ReturnedEvents != 0)
                return false;
            // Readable, writable, or an error/hang-up the caller's next call will report.
            if (fds[0].ReturnedEvents != 0)
                return true;
        }
    }

    protected override bool ReleaseHandle()
    {
        var closed = Libc.Close((int)handle) == 0;
        Libc.Close(_wakeFd);
        return closed;
    }
}
