using System.Globalization;

namespace Portcullis.Lab.Harness;

/// <summary>A WireGuard key pair as <c>wg genkey</c> / <c>wg pubkey</c> print them (base64).</summary>
public sealed record WireGuardKeys(string PrivateKey, string PublicKey)
{
    // The private key stays out of test output.
    public override string ToString() => $"WireGuardKeys {{ PublicKey = {PublicKey} }}";
}

/// <summary>One peer line of <c>wg show IF dump</c>.</summary>
public sealed record WgPeerDump(
    string PublicKey, string? Endpoint, string AllowedIps, DateTimeOffset? LatestHandshake, long RxBytes, long TxBytes);

/// <summary>Stock wireguard-tools driven from the harness: keys, <c>wg setconf</c>, <c>wg set</c>, <c>wg show dump</c>.</summary>
public static class WgTools
{
    public static async Task<WireGuardKeys> GenerateKeysAsync()
    {
        // Key generation touches no network, so it runs in the test's own namespace.
        var privateKey = (await ProcessRunner.RunCheckedAsync("wg", "genkey")).Stdout.Trim();
        var publicKey = await ProcessRunner.RunAsync(["wg", "pubkey"], RunOptions.Default with { Check = true }, privateKey + "\n");
        return new WireGuardKeys(privateKey, publicKey.Stdout.Trim());
    }

    /// <summary>Applies a wg(8) configuration through a 0600 temp file (<c>wg setconf IF FILE</c>).</summary>
    public static async Task SetConfAsync(LabHost host, string interfaceName, string configuration)
    {
        var path = Path.Combine(host.Network.CreateTempDirectory(), interfaceName + ".conf");
        await WritePrivateFileAsync(path, configuration);
        await host.RunCheckedAsync("wg", "setconf", interfaceName, path);
    }

    public static Task<string> SetAsync(LabHost host, string interfaceName, params string[] arguments) =>
        host.RunCheckedAsync(["wg", "set", interfaceName, .. arguments]);

    /// <summary>Peers of <c>wg show IF dump</c> (the interface line is skipped).</summary>
    public static async Task<IReadOnlyList<WgPeerDump>> ShowPeersAsync(LabHost host, string interfaceName)
    {
        var dump = await host.RunCheckedAsync("wg", "show", interfaceName, "dump");
        var peers = new List<WgPeerDump>();
        foreach (var line in dump.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1))
        {
            // public-key preshared-key endpoint allowed-ips latest-handshake rx tx persistent-keepalive
            var f = line.Split('\t');
            if (f.Length < 8)
                throw new FormatException($"unexpected wg dump line: {line}");
            var handshake = long.Parse(f[4], CultureInfo.InvariantCulture);
            peers.Add(new WgPeerDump(
                f[0],
                f[2] == "(none)" ? null : f[2],
                f[3],
                handshake == 0 ? null : DateTimeOffset.FromUnixTimeSeconds(handshake),
                long.Parse(f[5], CultureInfo.InvariantCulture),
                long.Parse(f[6], CultureInfo.InvariantCulture)));
        }

        return peers;
    }

    public static async Task WritePrivateFileAsync(string path, string content)
    {
        await using (var stream = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }))
        await using (var writer = new StreamWriter(stream))
            await writer.WriteAsync(content);
    }
}
