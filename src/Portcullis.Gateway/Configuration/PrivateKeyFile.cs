using System.Security.Cryptography;

namespace Portcullis.Gateway.Configuration;

/// <summary>
/// <c>private_key_file</c>: one base64 key, as <c>wg genkey &gt; FILE</c> writes it. Refused when group or others
/// may access it (see <see cref="GatewayConfigLoader"/>); errors name the path, never the content.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal static class PrivateKeyFile
{
    private const int MaxLength = 256;

    public static byte[]? Read(TomlSection section, string path)
    {
        const string key = "private_key_file";
        char[] text;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                section.Error(key, $"{path} does not exist");
                return null;
            }
            if (!GatewayConfigLoader.IsPrivate(info.UnixFileMode))
            {
                section.Error(key, $"{path} is accessible by group or others (mode {GatewayConfigLoader.Octal(info.UnixFileMode)}); chmod 600 it");
                return null;
            }
            if (info.Length > MaxLength)
            {
                section.Error(key, $"{path} is not a WireGuard private key (too long)");
                return null;
            }
            text = File.ReadAllText(path).ToCharArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            section.Error(key, $"cannot read {path}: {e.Message}");
            return null;
        }

        try
        {
            var trimmed = new string(text.AsSpan().Trim());
            if (ConfigValues.TryParseKey(trimmed, out var parsed))
                return parsed;
            section.Error(key, $"{path} does not hold a base64 WireGuard key of 32 bytes (as `wg genkey` prints)");
            return null;
        }
        finally
        {
            // The string copies are beyond reach; the buffer we own is not.
            CryptographicOperations.ZeroMemory(System.Runtime.InteropServices.MemoryMarshal.AsBytes(text.AsSpan()));
        }
    }
}
