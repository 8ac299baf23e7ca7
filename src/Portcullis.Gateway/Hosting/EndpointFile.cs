using System.Net;
using System.Security.Cryptography;
using System.Text;
using Portcullis.Core.Io;
using Portcullis.Linux.Files;

namespace Portcullis.Gateway.Hosting;

/// <summary>
/// Where each peer was last heard from, in <c>/run/portcullis/INTERFACE.endpoints</c>: one line per peer,
/// <c>PUBLIC_KEY ADDRESS:PORT</c> (IPv6 as <c>[ADDRESS]:PORT</c>). /run is memory: the file survives a crash of the
/// gateway but not a reboot. Written whole and atomically (a 0600 temporary file renamed over it); read only as the
/// gateway user's private file (<see cref="PrivateFile"/>), since whoever could plant it would choose where the gateway
/// sends handshakes.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal static class EndpointFile
{
    public const string Directory = "/run/portcullis";

    // ~100 bytes a peer: room for far more peers than a device holds.
    private const int MaxLength = 16 << 20;

    public static string PathFor(string interfaceName) => Path.Combine(Directory, interfaceName + ".endpoints");

    /// <summary>The endpoints in <paramref name="path"/> by public key (base64); empty when there is no file. Lines that do not parse are skipped and counted.</summary>
    public static Dictionary<string, UdpEndpoint> Read(string path, out int skipped)
    {
        skipped = 0;
        var endpoints = new Dictionary<string, UdpEndpoint>(StringComparer.Ordinal);
        byte[] bytes;
        try
        {
            bytes = PrivateFile.Read(path, MaxLength);
        }
        catch (FileNotFoundException)
        {
            return endpoints;
        }
        foreach (var line in Encoding.ASCII.GetString(bytes).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split(' ');
            if (parts.Length == 2 && IsKey(parts[0]) && IPEndPoint.TryParse(parts[1], out var endpoint) && endpoint.Port != 0)
                endpoints[parts[0]] = UdpEndpoint.FromIPEndPoint(endpoint);
            else
                skipped++;
        }
        return endpoints;
    }

    /// <summary>Replaces the file with <paramref name="endpoints"/>; makes the folder (0700) when missing.</summary>
    public static void Write(string path, IReadOnlyDictionary<string, UdpEndpoint> endpoints)
    {
        var folder = System.IO.Path.GetDirectoryName(path)!;
        if (!System.IO.Directory.Exists(folder))
            System.IO.Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var text = new StringBuilder(endpoints.Count * 80);
        foreach (var (key, endpoint) in endpoints)
            text.Append(key).Append(' ').Append(endpoint.ToString()).Append('\n');

        var temporary = $"{path}.{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}.tmp";
        try
        {
            var options = new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            };
            using (var stream = new FileStream(temporary, options))
                stream.Write(Encoding.ASCII.GetBytes(text.ToString()));
            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    private static bool IsKey(string text) => text.Length == 44 && Convert.TryFromBase64String(text, new byte[33], out var n) && n == 32;
}
