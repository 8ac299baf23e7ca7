using System.Runtime.InteropServices;

namespace Portcullis.Linux.Interop;

/// <summary>File metadata calls: statx has one layout on every architecture, unlike struct stat.</summary>
internal static unsafe partial class Libc
{
    [LibraryImport(Library, EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Statx(int directoryFd, string path, int flags, uint mask, byte* buffer);

    [LibraryImport(Library, EntryPoint = "geteuid")]
    internal static partial uint GetEffectiveUserId();
}
