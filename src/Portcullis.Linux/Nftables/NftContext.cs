using System.Runtime.InteropServices;

namespace Portcullis.Linux.Nftables;

/// <summary>
/// One libnftables context: nft's own command language (or JSON) run in-process, each call one transaction.
/// <para>
/// Namespace: the context opens its netfilter netlink socket in <c>nft_ctx_new</c> (libnftables 1.0.6, checked by
/// <c>NftContextTests</c>), so every command acts on the network namespace of the thread that constructed the context,
/// whichever thread runs it later. Construct it inside <c>NetworkNamespace.RunIn</c> to program another namespace.
/// </para>
/// <para>
/// Descriptors: libnftables waits on its socket with select(), and glibc aborts the whole process when that
/// descriptor is 1024 or above. The socket takes the lowest free number, so the constructor refuses (throws) when
/// that number is too high; create long-lived contexts early, while few descriptors are open.
/// </para>
/// <para>
/// Threads: libnftables keeps process-wide state (one-time init, the interface cache released after every command),
/// so all contexts share one lock; calls are serialised and the class is thread-safe.
/// </para>
/// </summary>
public sealed class NftContext : IDisposable
{
    // Shared by every context: libnftables' globals are not safe to touch from two threads at once.
    private static readonly Lock NativeLock = new();
    private nint _handle;

    /// <summary>FD_SETSIZE: select() cannot watch descriptors from here on.</summary>
    private const int SelectLimit = 1024;

    public NftContext()
    {
        lock (NativeLock)
        {
            var next = LowestFreeDescriptor();
            if (next >= SelectLimit - 8)
                throw new NftException(
                    $"too many open files to use libnftables safely (next descriptor {next}; its select() aborts at {SelectLimit})");
            try
            {
                _handle = NftNative.ContextNew(NftNative.ContextDefault);
            }
            catch (DllNotFoundException e)
            {
                throw new NftException("libnftables.so.1 is not installed (Debian package libnftables1)", e);
            }

            if (_handle == 0)
                throw new NftException("nft_ctx_new failed");
            if (NftNative.BufferOutput(_handle) != 0 || NftNative.BufferError(_handle) != 0)
            {
                NftNative.ContextFree(_handle);
                _handle = 0;
                throw new NftException("libnftables could not buffer its output");
            }
        }
    }

    /// <summary>True when libnftables can be loaded on this machine.</summary>
    public static bool IsSupported => NativeLibrary.TryLoad("libnftables.so.1", out _);

    /// <summary>
    /// Runs <paramref name="commands"/> (nft syntax, one command per line or separated by ';') as one transaction
    /// and returns what nft printed. Throws <see cref="NftException"/> carrying nft's error text on failure; the
    /// kernel then holds its state from before the call.
    /// </summary>
    public string Run(string commands) => Run(commands, flags: 0);

    /// <summary>As <see cref="Run(string)"/>, with JSON output (libnftables-json(5)); the input may be JSON too.</summary>
    public string RunJson(string commands) => Run(commands, NftNative.OutputJson);

    private string Run(string commands, uint flags)
    {
        ArgumentNullException.ThrowIfNull(commands);
        if (commands.Contains('\0', StringComparison.Ordinal))
            throw new ArgumentException("nft commands must not contain NUL", nameof(commands));

        lock (NativeLock)
        {
            ObjectDisposedException.ThrowIf(_handle == 0, this);
            NftNative.OutputSetFlags(_handle, flags);
            var rc = NftNative.RunCommandFromBuffer(_handle, commands);
            // Read both buffers every time: reading rewinds them, so no text leaks into the next call.
            var output = Marshal.PtrToStringUTF8(NftNative.GetOutputBuffer(_handle)) ?? string.Empty;
            var error = Marshal.PtrToStringUTF8(NftNative.GetErrorBuffer(_handle)) ?? string.Empty;
            NftNative.OutputSetFlags(_handle, 0);
            if (rc != 0)
                throw new NftException("nftables command failed", error.Length == 0 ? $"nft returned {rc}" : error);
            return output;
        }
    }

    private static int LowestFreeDescriptor()
    {
        const int ORdonlyCloexec = 0x80000;
        var fd = Interop.Libc.Open("/dev/null", ORdonlyCloexec);
        if (fd < 0)
            throw Interop.Errno.LastFailure("open /dev/null");
        Interop.Libc.Close(fd);
        return fd;
    }

    public void Dispose()
    {
        lock (NativeLock)
        {
            if (_handle == 0)
                return;
            NftNative.ContextFree(_handle);
            _handle = 0;
        }
    }
}
