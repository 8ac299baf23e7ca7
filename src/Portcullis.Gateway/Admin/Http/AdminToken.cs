using System.Buffers.Text;
using System.Runtime.Versioning;
using System.Security.Cryptography;
using System.Text;
using Portcullis.Linux.Files;

namespace Portcullis.Gateway.Admin.Http;

/// <summary>
/// The admin API's bearer token, from its file. Only a SHA-256 digest of it is kept in memory: requests are
/// compared digest to digest in constant time, so neither the comparison's timing nor a heap dump gives the token.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class AdminToken
{
    private const int MinimumLength = 16;

    // A token is a line of text; anything far longer is not one.
    private const int MaximumFileLength = 4096;

    private readonly byte[] _digest;

    private AdminToken(byte[] digest) => _digest = digest;

    /// <summary>True when the file was created by <see cref="LoadOrCreate"/> rather than found.</summary>
    public bool Created { get; private init; }

    /// <summary>
    /// Reads the token from <paramref name="path"/>, or creates the file (mode 0600, its folder 0700 when missing)
    /// with 32 random bytes as base64url when there is none. Throws <see cref="AdminTokenException"/> naming the file
    /// when it is not the gateway user's private file (a symbolic link, owned by another user, open to group or
    /// others: <see cref="PrivateFile"/> — group or others reading it get the gateway, writing it let one in), is
    /// empty, too short, or cannot be read or made.
    /// </summary>
    public static AdminToken LoadOrCreate(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        try
        {
            if (!File.Exists(path))
            {
                var created = TryCreate(path);
                if (created is not null)
                    return created;
            }
            return Load(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new AdminTokenException($"Admin token file {path}: {e.Message}", e);
        }
    }

    /// <summary>Whether <paramref name="presented"/> (the text after "Bearer ") is the token. Constant time.</summary>
    public bool Matches(ReadOnlySpan<char> presented)
    {
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        var byteCount = Encoding.UTF8.GetByteCount(presented);
        var bytes = byteCount <= 256 ? stackalloc byte[byteCount] : new byte[byteCount];
        Encoding.UTF8.GetBytes(presented, bytes);
        SHA256.HashData(bytes, digest);
        CryptographicOperations.ZeroMemory(bytes);
        return CryptographicOperations.FixedTimeEquals(digest, _digest);
    }

    private static AdminToken Load(string path)
    {
        byte[] bytes;
        try
        {
            bytes = PrivateFile.Read(path, MaximumFileLength);
        }
        catch (PrivateFileException e)
        {
            throw new AdminTokenException($"Admin token file: {e.Message}.", e);
        }
        try
        {
            var token = Trim(bytes);
            if (token.Length < MinimumLength)
            {
                throw new AdminTokenException(
                    $"Admin token file {path} holds fewer than {MinimumLength} characters; delete it to have a new token made.");
            }
            return new AdminToken(SHA256.HashData(token));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    private static AdminToken? TryCreate(string path)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null && !Directory.Exists(folder))
            Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        Span<byte> random = stackalloc byte[32];
        Span<byte> text = stackalloc byte[Base64Url.GetEncodedLength(32) + 1];
        RandomNumberGenerator.Fill(random);
        var length = Base64Url.EncodeToUtf8(random, text);
        text[length] = (byte)'\n';
        try
        {
            var options = new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            };
            using (var stream = new FileStream(path, options))
            {
                stream.Write(text[..(length + 1)]);
                stream.Flush(flushToDisk: true);
            }
            return new AdminToken(SHA256.HashData(text[..length])) { Created = true };
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another process made it between our check and our create: use theirs.
            return null;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(random);
            CryptographicOperations.ZeroMemory(text);
        }
    }

    private static ReadOnlySpan<byte> Trim(ReadOnlySpan<byte> bytes)
    {
        var start = 0;
        var end = bytes.Length;
        while (start < end && IsSpace(bytes[start]))
            start++;
        while (end > start && IsSpace(bytes[end - 1]))
            end--;
        return bytes[start..end];
    }

    private static bool IsSpace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n';

}

/// <summary>The admin token file cannot be read, created or trusted; the message names the file, never the token.</summary>
public sealed class AdminTokenException : Exception
{
    public AdminTokenException() { }
    public AdminTokenException(string message) : base(message) { }
    public AdminTokenException(string message, Exception inner) : base(message, inner) { }
}
