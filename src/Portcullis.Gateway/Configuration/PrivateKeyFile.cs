using System.Security.Cryptography;

namespace Portcullis.Gateway.Configuration;

/// <summary>
/// <c>private_key_file</c>: one base64 key, as <c>wg genkey &gt; FILE</c> writes it. Refused unless it is the
/// gateway user's private file (<see cref="Linux.Files.PrivateFile"/>: not a symbolic link, owned by that user, no
/// access for group or others); errors name the path, never the content.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal static class PrivateKeyFile
{
    private const int MaxLength = 256;

    public static byte[]? Read(TomlSection section, string path)
    {
        const string key = "private_key_file";
        byte[] bytes;
        try
        {
            bytes = Linux.Files.PrivateFile.Read(path, MaxLength);
        }
        catch (FileNotFoundException)
        {
            section.Error(key, $"{path} does not exist");
            return null;
        }
        catch (Linux.Files.PrivateFileException e)
        {
            section.Error(key, e.Message);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            section.Error(key, $"cannot read {path}: {e.Message}");
            return null;
        }

        try
        {
            var text = System.Text.Encoding.ASCII.GetString(bytes.AsSpan().Trim(" \t\r\n"u8));
            if (ConfigValues.TryParseKey(text, out var parsed))
                return parsed;
            section.Error(key, $"{path} does not hold a base64 WireGuard key of 32 bytes (as `wg genkey` prints)");
            return null;
        }
        finally
        {
            // The string copy is beyond reach; the buffer we own is not.
            CryptographicOperations.ZeroMemory(bytes);
        }
    }
}
