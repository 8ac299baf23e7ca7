using System.Security.Cryptography;
using Portcullis.Lab.Harness;
using Portcullis.Lab.Tunnel;
using static Portcullis.Lab.Gateway.GatewayLab;

namespace Portcullis.Lab.Gateway;

/// <summary>
/// The store at gateway start: a corrupt file and a file another process holds locked each stop the gateway with a
/// message naming the file, exit 1, before anything exists in the kernel, and the file keeps every byte.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class StoreStartTests
{
    /// <summary>Holds an exclusive SQLite lock on the file until stdin closes (or 60 s pass).</summary>
    private const string LockHolder = """
        import sqlite3, sys, time
        db = sqlite3.connect(sys.argv[1], isolation_level=None)
        db.execute("BEGIN EXCLUSIVE")
        print("locked", flush=True)
        time.sleep(60)
        """;

    [Fact]
    public async Task GatewayStart_CorruptThenLockedStore_ExitsOneNamingTheFileAndLeavesItUnchanged()
    {
        await using var network = await LabNetwork.CreateAsync();
        var gateway = await network.AddHostAsync("gateway", LabSegment.Gateway, PublicAddress);
        var keys = await WgTools.GenerateKeysAsync();
        var directory = network.CreateTempDirectory();
        var store = Path.Combine(directory, "portcullis.db");
        var config = Path.Combine(directory, "gw.toml");
        var tunnel = network.NewInterfaceName();
        await WgTools.WritePrivateFileAsync(config, $"""
            [tunnel]
            interface   = "{tunnel}"
            private_key = "{keys.PrivateKey}"
            address     = "10.99.0.1/16"

            [nat]
            public_interface = "eth0"
            public_addresses = ["{PublicAddress}"]

            [store]
            path = "{store}"

            [[peer]]
            name       = "a"
            public_key = "{(await WgTools.GenerateKeysAsync()).PublicKey}"
            """);

        // Corrupt: not a database at all.
        await File.WriteAllBytesAsync(store, RandomNumberGenerator.GetBytes(8192));
        var corrupt = Hash(store);
        var refused = await RunGatewayAsync(gateway, config);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains(store, refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("not a SQLite database", refused.Stderr, StringComparison.Ordinal);
        Assert.Equal(corrupt, Hash(store));
        await AssertNothingMadeAsync(gateway, tunnel);

        // Locked: a sound database that another process holds.
        File.Delete(store);
        var first = gateway.Start([LabBinaries.Portcullis, "gateway", "--config", config],
            new Dictionary<string, string> { ["LOG_LEVEL"] = "info" });
        await WaitForAsync(first, "Gateway up");
        first.Terminate();
        Assert.True(await first.WaitForExitAsync(TimeSpan.FromSeconds(10)), first.Output);
        await using var holder = gateway.Start("python3", "-c", LockHolder, store);
        await WaitForAsync(holder, "locked");
        var sound = Hash(store);

        var locked = await RunGatewayAsync(gateway, config);

        Assert.Equal(1, locked.ExitCode);
        Assert.Contains(store, locked.Stderr, StringComparison.Ordinal);
        Assert.Contains("locked", locked.Stderr, StringComparison.Ordinal);
        Assert.Equal(sound, Hash(store));
        await AssertNothingMadeAsync(gateway, tunnel);
        Assert.DoesNotContain(keys.PrivateKey, refused.Stdout + refused.Stderr + locked.Stdout + locked.Stderr, StringComparison.Ordinal);
    }

    private static Task<CommandResult> RunGatewayAsync(LabHost gateway, string config) =>
        gateway.RunAsync([LabBinaries.Portcullis, "gateway", "--config", config], RunOptions.Default with { Timeout = TimeSpan.FromSeconds(60) });

    private static async Task AssertNothingMadeAsync(LabHost gateway, string tunnel)
    {
        Assert.DoesNotContain("portcullis", await gateway.RunCheckedAsync("nft", "list", "ruleset"), StringComparison.Ordinal);
        Assert.False((await gateway.RunAsync("ip", "link", "show", tunnel)).Succeeded, "a TUN was made before the store was open");
    }

    private static async Task WaitForAsync(LabProcess process, string text)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!process.Output.Contains(text, StringComparison.Ordinal))
        {
            if (process.HasExited || DateTime.UtcNow > deadline)
                throw new LabCommandException($"never saw '{text}':\n{process.Output}");
            await Task.Delay(50);
        }
    }

    private static string Hash(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));
}
