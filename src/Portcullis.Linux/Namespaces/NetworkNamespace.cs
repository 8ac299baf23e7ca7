using System.Runtime.ExceptionServices;
using Portcullis.Linux.Interop;

namespace Portcullis.Linux.Namespaces;

/// <summary>
/// Runs code inside a named network namespace (one made by <c>ip netns add NAME</c>).
/// The namespace is a per-thread property, so the code runs on a fresh thread that joins the namespace
/// first and dies afterwards; the caller's thread never changes namespace. Sockets, TUN descriptors and
/// netlink requests made there belong to that namespace and keep working from any thread afterwards.
/// </summary>
public static class NetworkNamespace
{
    private const int CloneNewNet = 0x40000000;
    private const int ORdonly = 0;
    private const int OCloexec = 0x80000;

    /// <summary>The directory iproute2 keeps named namespaces in.</summary>
    public const string Directory = "/var/run/netns";

    /// <summary>Runs <paramref name="action"/> in namespace <paramref name="name"/> and returns its result; its exceptions are rethrown here.</summary>
    public static T RunIn<T>(string name, Func<T> action)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(action);
        if (name.Contains('/', StringComparison.Ordinal) || name is "." or "..")
            throw new ArgumentException($"Namespace name '{name}' is not valid.", nameof(name));

        T result = default!;
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                Enter(name);
                result = action();
            }
            catch (Exception e)
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
        })
        {
            IsBackground = true,
            Name = $"netns {name}",
        };
        thread.Start();
        thread.Join();
        failure?.Throw();
        return result;
    }

    /// <summary>Runs <paramref name="action"/> in namespace <paramref name="name"/>.</summary>
    public static void RunIn(string name, Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        RunIn(name, () =>
        {
            action();
            return true;
        });
    }

    private static void Enter(string name)
    {
        var path = Path.Combine(Directory, name);
        var fd = Libc.Open(path, ORdonly | OCloexec);
        if (fd < 0)
            throw Errno.LastFailure($"open network namespace {path}");
        try
        {
            if (Libc.SetNs(fd, CloneNewNet) < 0)
                throw Errno.LastFailure($"enter network namespace {name} (setns)");
        }
        finally
        {
            Libc.Close(fd);
        }
    }
}
