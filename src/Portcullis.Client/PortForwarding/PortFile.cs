using System.Globalization;
using System.Text;

namespace Portcullis.Client.PortForwarding;

/// <summary>
/// Writes the port to a file so that a reader sees either the old content or the new, never a half-written file:
/// a temporary file in the same directory (same file system, so rename is atomic), fsync, mode 0644, rename over.
/// </summary>
public static class PortFile
{
    public static void Write(string path, ushort port) => Write(path, port.ToString(CultureInfo.InvariantCulture));

    /// <summary>Writes <paramref name="text"/> and a newline (the IPv6 port file's <c>[ADDRESS]:PORT</c>).</summary>
    public static void Write(string path, string text)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(text);
        if (OperatingSystem.IsWindows())
            throw new PlatformNotSupportedException("the port file is written with POSIX modes");
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full) ?? "/";
        var temporary = Path.Combine(directory, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            var options = new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
            };
            using (var stream = new FileStream(temporary, options))
            {
                stream.Write(Encoding.ASCII.GetBytes(text + "\n"));
                stream.Flush(flushToDisk: true);
            }
            // The umask may have taken bits away at creation; readers (a torrent client's user) need 0644.
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary))
                File.Delete(temporary);
        }
    }
}
