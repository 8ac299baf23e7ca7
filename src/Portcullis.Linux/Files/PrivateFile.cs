using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Portcullis.Linux.Interop;

namespace Portcullis.Linux.Files;

/// <summary>
/// Reads a file that holds a secret (a private key, a token) only when it is the operator's private file: opened without
/// following a symbolic link (O_NOFOLLOW: whoever can write the folder could otherwise point the name at a file of
/// their choosing, or at one they can swap), a regular file, owned by the user the process runs as, with no permission
/// for group or others. Every check is made on the opened descriptor, so nothing can change between check and read.
/// </summary>
public static class PrivateFile
{
    private const int ReadOnly = 0;
    private const int NonBlocking = 0x800; // a FIFO must not hang the start
    private const int CloseOnExec = 0x80000;
    private const int EmptyPath = 0x1000; // AT_EMPTY_PATH: statx of the descriptor itself
    private const uint StatxType = 0x1, StatxMode = 0x2, StatxUid = 0x8, StatxSize = 0x200;
    private const int ELOOP = 40;
    private const int StatxBufferSize = 256;
    private const int UidOffset = 20, ModeOffset = 28, SizeOffset = 40;
    private const int TypeMask = 0xF000, RegularFile = 0x8000;
    private const int GroupOrOthers = 0x3F; // rwx for group and others

    // O_NOFOLLOW is one of the few flags whose value differs between architectures.
    private static int NoFollow => RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm ? 0x8000 : 0x20000;

    /// <summary>
    /// The content of <paramref name="path"/>, at most <paramref name="maxLength"/> bytes; the caller wipes it. Throws
    /// <see cref="PrivateFileException"/> naming the path and what is wrong (never the content), or
    /// <see cref="FileNotFoundException"/> when there is no such file.
    /// </summary>
    public static unsafe byte[] Read(string path, int maxLength)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxLength);
        var fd = Libc.Open(path, ReadOnly | NonBlocking | CloseOnExec | NoFollow);
        if (fd < 0)
        {
            var errno = Errno.Last;
            throw errno switch
            {
                Errno.ENOENT => new FileNotFoundException($"{path} does not exist", path),
                ELOOP => new PrivateFileException($"{path} is a symbolic link; name the file itself"),
                _ => new PrivateFileException($"cannot open {path}: {Errno.Describe(errno)}"),
            };
        }
        using var handle = new SafeFileHandle(fd, ownsHandle: true);
        var info = stackalloc byte[StatxBufferSize];
        if (Libc.Statx(fd, "", EmptyPath, StatxType | StatxMode | StatxUid | StatxSize, info) != 0)
            throw new PrivateFileException($"cannot stat {path}: {Errno.Describe(Errno.Last)}");
        var mode = *(ushort*)(info + ModeOffset);
        var owner = *(uint*)(info + UidOffset);
        var size = *(ulong*)(info + SizeOffset);
        if ((mode & TypeMask) != RegularFile)
            throw new PrivateFileException($"{path} is not a regular file");
        var user = Libc.GetEffectiveUserId();
        if (owner != user)
            throw new PrivateFileException($"{path} is owned by uid {owner}, not by the user of this process (uid {user}); chown it");
        if ((mode & GroupOrOthers) != 0)
            throw new PrivateFileException($"{path} is accessible by group or others (mode {Convert.ToString(mode & 0xFFF, 8).PadLeft(4, '0')}); chmod 600 it");
        if (size > (ulong)maxLength)
            throw new PrivateFileException($"{path} is too long ({size} bytes, at most {maxLength})");

        var content = new byte[(int)size];
        var read = 0;
        while (read < content.Length)
        {
            var n = RandomAccess.Read(handle, content.AsSpan(read), read);
            if (n == 0)
                break;
            read += n;
        }
        if (read == content.Length)
            return content;
        var shorter = content[..read];
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(content);
        return shorter;
    }
}

/// <summary>A secret's file is not private (see <see cref="PrivateFile"/>); the message names the file, never its content.</summary>
public sealed class PrivateFileException : IOException
{
    public PrivateFileException() { }
    public PrivateFileException(string message) : base(message) { }
    public PrivateFileException(string message, Exception inner) : base(message, inner) { }
}
