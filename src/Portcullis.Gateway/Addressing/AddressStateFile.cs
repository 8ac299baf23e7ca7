using System.Net;
using System.Text.Json;
using Portcullis.Gateway.Configuration;

namespace Portcullis.Gateway.Addressing;

/// <summary>
/// Remembers allocated addresses across restarts: <c>tunnel-addresses.json</c> in the store's folder, mode 0600,
/// replaced atomically (write a temp file, rename). Until the SQLite store (next issue) takes over.
/// <code>{ "version": 1, "peers": [ { "public_key": "BASE64", "address": "10.99.0.2" } ] }</code>
/// Public keys are not secret, but the file maps them to addresses, so it is kept private anyway.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public static class AddressStateFile
{
    public const string FileName = "tunnel-addresses.json";
    private const int Version = 1;

    public static string PathFor(StoreSection store)
    {
        ArgumentNullException.ThrowIfNull(store);
        var directory = Path.GetDirectoryName(Path.GetFullPath(store.Path)) ?? "/";
        return Path.Combine(directory, FileName);
    }

    /// <summary>The remembered addresses by public key; empty when the file does not exist yet.</summary>
    public static Dictionary<string, IPAddress> Load(string path)
    {
        var result = new Dictionary<string, IPAddress>(StringComparer.Ordinal);
        if (!File.Exists(path))
            return result;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            var root = document.RootElement;
            if (root.GetProperty("version").GetInt32() != Version)
                throw new GatewayConfigException($"{path}: unsupported version; delete the file to allocate addresses afresh");
            foreach (var peer in root.GetProperty("peers").EnumerateArray())
            {
                var key = peer.GetProperty("public_key").GetString();
                var address = peer.GetProperty("address").GetString();
                if (key is null || address is null || !ConfigValues.TryParseIpv4(address, out var parsed))
                    throw new FormatException("a peer entry lacks public_key or a valid address");
                result[key] = parsed;
            }
            return result;
        }
        catch (Exception e) when (e is JsonException or FormatException or KeyNotFoundException or InvalidOperationException)
        {
            throw new GatewayConfigException($"{path}: not a valid address state file ({e.Message}); fix or delete it", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new GatewayConfigException($"{path}: cannot read: {e.Message}", e);
        }
    }

    /// <summary>Writes the addresses the allocator gave (configured ones need no memory) atomically, mode 0600.</summary>
    public static void Save(string path, IEnumerable<PeerAddress> peers)
    {
        ArgumentNullException.ThrowIfNull(peers);
        var directory = Path.GetDirectoryName(path)!;
        if (!Directory.Exists(directory))
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var temp = path + ".tmp";
        using (var stream = new FileStream(temp, new FileStreamOptions
        {
            Mode = FileMode.Create,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }))
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteNumber("version", Version);
            writer.WriteStartArray("peers");
            foreach (var peer in peers)
            {
                if (peer.Configured)
                    continue;
                writer.WriteStartObject();
                writer.WriteString("public_key", peer.PublicKeyBase64);
                writer.WriteString("address", peer.Address.ToString());
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
            writer.Flush();
            stream.Flush(flushToDisk: true);
        }
        // A file created earlier with a wider mode keeps it through FileMode.Create: set it explicitly.
        File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(temp, path, overwrite: true);
    }
}
