using System.Text;
using Portcullis.Linux.Interop;

namespace Portcullis.Linux.Links;

public static partial class Link
{
    private const int AfInet = 2;
    private const int SockDgram = 2;
    private const int SockCloexec = 0x80000;
    private const nuint SiocGifFlags = 0x8913;
    private const int IfReqSize = 40;
    private const int IfNameSize = 16;

    /// <summary>
    /// Whether <paramref name="name"/> exists in the calling thread's network namespace and is administratively up
    /// (IFF_UP), asked with SIOCGIFFLAGS. Unlike /sys/class/net, which shows the namespace sysfs was mounted in, this
    /// follows the thread. False when there is no such interface.
    /// </summary>
    public static unsafe bool IsUp(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (Encoding.UTF8.GetByteCount(name) >= IfNameSize)
            return false;
        var fd = Libc.Socket(AfInet, SockDgram | SockCloexec, 0);
        if (fd < 0)
            throw Errno.LastFailure("socket for SIOCGIFFLAGS");
        try
        {
            var request = stackalloc byte[IfReqSize];
            new Span<byte>(request, IfReqSize).Clear();
            Encoding.UTF8.GetBytes(name, new Span<byte>(request, IfNameSize - 1));
            if (Libc.Ioctl(fd, SiocGifFlags, request) < 0)
                return false;
            var flags = *(short*)(request + IfNameSize);
            return (flags & RtNetlink.IffUp) != 0;
        }
        finally
        {
            Libc.Close(fd);
        }
    }
}
