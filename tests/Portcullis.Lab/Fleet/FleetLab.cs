using System.Text.Json;
using Portcullis.Lab.Gateway;
using Portcullis.Lab.Harness;

namespace Portcullis.Lab.Fleet;

/// <summary>
/// A fleet in the lab: gateways A (198.51.100.10) and B (198.51.100.20), each <c>portcullis gateway</c> with its own
/// WireGuard key and admin API (127.0.0.1:8351 in its namespace), both on one PostgreSQL (192.0.2.50:5432, database
/// "fleet", password from a 0600 file) in a third namespace; two stock WireGuard clients, alice (203.0.113.21) and bob
/// (.22), and "someone on the internet" (192.0.2.100). The gateways start at the same moment against the empty
/// database. No peer is in either file: peers come from the admin API.
/// </summary>
internal sealed class FleetLab : IAsyncDisposable
{
    public const string AddressA = "198.51.100.10";
    public const string AddressB = "198.51.100.20";
    public const string DatabaseAddress = "192.0.2.50";
    public const string TunnelGateway = "10.99.0.1";
    public const int ListenPort = 51820;

    private FleetLab(LabNetwork network, LabHost a, LabHost b, LabHost db, LabHost alice, LabHost bob, LabHost remote)
    {
        Network = network;
        A = a;
        B = b;
        Db = db;
        Alice = alice;
        Bob = bob;
        Remote = remote;
    }

    public LabNetwork Network { get; }
    public LabHost A { get; }
    public LabHost B { get; }
    public LabHost Db { get; }
    public LabHost Alice { get; }
    public LabHost Bob { get; }
    public LabHost Remote { get; }
    public LabPostgres Postgres { get; private set; } = null!;
    public string Directory { get; private set; } = "";
    public WireGuardKeys KeysA { get; private set; } = null!;
    public WireGuardKeys KeysB { get; private set; } = null!;
    public LabProcess GatewayA { get; private set; } = null!;
    public LabProcess GatewayB { get; private set; } = null!;

    public string ConfigA => Path.Combine(Directory, "a.toml");
    public string ConfigB => Path.Combine(Directory, "b.toml");

    public static async Task<FleetLab> StartAsync()
    {
        var network = await LabNetwork.CreateAsync();
        try
        {
            var lab = new FleetLab(network,
                await network.AddHostAsync("gwa", LabSegment.Gateway, AddressA),
                await network.AddHostAsync("gwb", LabSegment.Gateway, AddressB),
                await network.AddHostAsync("db", LabSegment.Remote, DatabaseAddress),
                await network.AddHostAsync("alice", LabSegment.Home, "203.0.113.21"),
                await network.AddHostAsync("bob", LabSegment.Home, "203.0.113.22"),
                await network.AddHostAsync("remote", LabSegment.Remote, "192.0.2.100"));
            await lab.StartAllAsync();
            return lab;
        }
        catch
        {
            await network.DisposeAsync();
            throw;
        }
    }

    private async Task StartAllAsync()
    {
        Directory = Network.CreateTempDirectory();
        var password = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        Postgres = await LabPostgres.CreateAsync(Db, "portcullis", password);
        await Postgres.CreateDatabaseAsync("fleet");
        await WgTools.WritePrivateFileAsync(Path.Combine(Directory, "db.password"), password + "\n");
        KeysA = await WgTools.GenerateKeysAsync();
        KeysB = await WgTools.GenerateKeysAsync();
        await WriteConfigAsync(ConfigA, "a", "lab-a", KeysA, AddressA);
        await WriteConfigAsync(ConfigB, "b", "lab-b", KeysB, AddressB);

        // Both at once against the empty database: the schema's advisory lock lets one migrate, the other waits.
        var a = GatewayDaemon.StartAsync(A, ConfigA);
        var b = GatewayDaemon.StartAsync(B, ConfigB);
        try
        {
            GatewayA = await a;
            GatewayB = await b;
        }
        catch (LabCommandException e)
        {
            throw new LabCommandException($"{e.Message}\n--- the lab:\n{Diagnostics()}");
        }
    }

    private Task WriteConfigAsync(string path, string name, string region, WireGuardKeys keys, string address) =>
        WgTools.WritePrivateFileAsync(path, $"""
            [tunnel]
            interface       = "{Network.NewInterfaceName()}"
            private_key     = "{keys.PrivateKey}"
            listen_port     = {ListenPort}
            address         = "{TunnelGateway}/16"
            session_timeout = 10

            [nat]
            public_interface = "eth0"
            public_addresses = ["{address}"]

            [forwarding]
            allow_suggested_port = true

            [gateway]
            name   = "{name}"
            region = "{region}"

            [store]
            url           = "postgresql://portcullis@{DatabaseAddress}:{LabPostgres.Port}/fleet"
            password_file = "db.password"

            [admin]
            listen     = "127.0.0.1:8351"
            token_file = "admin-{name}.token"
            """);

    /// <summary>`portcullis ARGS --config FILE` in that gateway's namespace.</summary>
    public Task<CommandResult> CliAsync(LabHost gateway, params string[] arguments) =>
        gateway.RunAsync([LabBinaries.Portcullis, .. arguments, "--config", gateway == A ? ConfigA : ConfigB],
            RunOptions.Default with { Timeout = TimeSpan.FromSeconds(30) });

    public async Task<string> CliCheckedAsync(LabHost gateway, params string[] arguments)
    {
        var result = await CliAsync(gateway, arguments);
        if (!result.Succeeded)
            throw new LabCommandException(result);
        return result.Stdout;
    }

    public async Task<JsonElement> CliJsonAsync(LabHost gateway, params string[] arguments)
    {
        using var document = JsonDocument.Parse(await CliCheckedAsync(gateway, [.. arguments, "--json"]));
        return document.RootElement.Clone();
    }

    /// <summary>
    /// A stock client on <paramref name="host"/> connected to gateway <paramref name="gateway"/> (A or B). The bound
    /// covers one lost handshake race: wireguard-go may send two initiations as it comes up and keep the keys of the
    /// first answer while the gateway keeps the second's; it then starts over after KEEPALIVE + REKEY_TIMEOUT (15 s).
    /// </summary>
    public Task<WireGuardDevice> ConnectAsync(LabHost host, WireGuardKeys keys, string tunnelAddress, LabHost gateway) =>
        StockClient.StartAsync(host, keys.PrivateKey, PublicKeyOf(gateway), $"{gateway.Address}:{ListenPort}", $"{tunnelAddress}/16",
            TunnelGateway, TimeSpan.FromSeconds(30), Diagnostics);

    /// <summary>The client leaves its gateway for <paramref name="gateway"/>, as a user picking another server does.</summary>
    public async Task MoveAsync(WireGuardDevice tunnel, LabHost from, LabHost gateway)
    {
        await tunnel.SetAsync("peer", PublicKeyOf(from), "remove");
        await tunnel.SetAsync("peer", PublicKeyOf(gateway), "endpoint", $"{gateway.Address}:{ListenPort}",
            "allowed-ips", "0.0.0.0/0", "persistent-keepalive", "3");
        if (!await tunnel.Host.PingUntilAsync(TunnelGateway, TimeSpan.FromSeconds(30)))
            throw new Xunit.Sdk.XunitException($"{tunnel.Host} did not reach {gateway}\n{Diagnostics()}");
    }

    /// <summary>
    /// A partition between one gateway and the database only, both ways (a table of the lab's own in that gateway's
    /// namespace drops every packet to or from the database's address); <paramref name="cut"/> false heals it.
    /// </summary>
    public Task<CommandResult> CutOffFromDatabaseAsync(LabHost gateway, bool cut) => gateway.RunAsync(cut
        ? ["nft", $"add table ip labcut; add chain ip labcut in {{ type filter hook input priority -10; }}; " +
            $"add chain ip labcut out {{ type filter hook output priority -10; }}; " +
            $"add rule ip labcut in ip saddr {DatabaseAddress} drop; add rule ip labcut out ip daddr {DatabaseAddress} drop"]
        : ["nft", "delete table ip labcut"], RunOptions.Default with { Check = true });

    public string PublicKeyOf(LabHost gateway) => gateway == A ? KeysA.PublicKey : KeysB.PublicKey;

    public LabProcess ProcessOf(LabHost gateway) => gateway == A ? GatewayA : GatewayB;

    public Task<string> RulesetAsync(LabHost gateway) => gateway.RunCheckedAsync("nft", "list", "ruleset");

    /// <summary>Until <paramref name="text"/> has been logged by that gateway <paramref name="count"/> times (an event, not a guessed time).</summary>
    public Task<bool> LoggedAsync(LabHost gateway, string text, int count = 1, double seconds = 20) =>
        Wait.UntilAsync(() => Task.FromResult(Count(ProcessOf(gateway).Output, text) >= count), TimeSpan.FromSeconds(seconds), TimeSpan.FromMilliseconds(50));

    public static int Count(string output, string text)
    {
        var n = 0;
        for (var i = output.IndexOf(text, StringComparison.Ordinal); i >= 0; i = output.IndexOf(text, i + text.Length, StringComparison.Ordinal))
            n++;
        return n;
    }

    public string Diagnostics() => $"{Network.Diagnostics()}";

    public ValueTask DisposeAsync() => Network.DisposeAsync();
}
