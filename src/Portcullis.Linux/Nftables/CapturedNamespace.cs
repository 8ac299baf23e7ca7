using System.Runtime.ExceptionServices;
using Portcullis.Linux.Interop;

namespace Portcullis.Linux.Nftables;

/// <summary>
/// The network namespace of the thread that created this object, held open by descriptor, so that work started
/// later from any thread (child processes in particular, which inherit their starting thread's namespace) lands in
/// the same namespace as sockets opened at construction.
/// </summary>
internal sealed class CapturedNamespace : IDisposable
{
    private const int CloneNewNet = 0x40000000;
    private const int ORdonly = 0;
    private const int OCloexec = 0x80000;
    private int _fd;

    public CapturedNamespace()
    {
        _fd = Libc.Open("/proc/thread-self/ns/net", ORdonly | OCloexec);
        if (_fd < 0)
            throw Errno.LastFailure("open /proc/thread-self/ns/net");
    }

    /// <summary>Runs <paramref name="action"/> on a fresh thread that first joins the captured namespace.</summary>
    public T Run<T>(Func<T> action)
    {
        ObjectDisposedException.ThrowIf(_fd < 0, this);
        var fd = _fd;
        T result = default!;
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                if (Libc.SetNs(fd, CloneNewNet) < 0)
                    throw Errno.LastFailure("enter the captured network namespace (setns)");
                result = action();
            }
            catch (Exception e)
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
        })
        {
            IsBackground = true,
            Name = "captured netns",
        };
        thread.Start();
        thread.Join();
        failure?.Throw();
        return result;
    }

    public void Dispose()
    {
        if (_fd < 0)
            return;
        Libc.Close(_fd);
        _fd = -1;
    }
}
