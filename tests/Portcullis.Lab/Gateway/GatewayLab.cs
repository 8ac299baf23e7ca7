using Portcullis.Lab.Harness;

namespace Portcullis.Lab.Gateway;

/// <summary>Knobs a gateway test turns; everything else is DESIGN §6's example.</summary>
internal sealed record GatewayLabOptions
{
    public bool ForwardingEnabled { get; init; } = true;

    public int MaxPerPeer { get; init; } = 4;

    /// <summary>Short, so a session-end test does not wait the default 180 s.</summary>
    public int SessionTimeoutSeconds { get; init; } = 10;

    /// <summary>[forwarding] min_lifetime; null keeps the policy's default (120 s).</summary>
    public int? MinLifetimeSeconds { get; init; }

    /// <summary>More [forwarding] lines, as written in the file.</summary>
    public string ExtraForwarding { get; init; } = "";

    /// <summary>Written after peer a's [[peer]] lines: more keys for it, then its [[peer.forward]] tables.</summary>
    public string ExtraPeerA { get; init; } = "";

    /// <summary>Written after peer b's [[peer]] lines, the end of the file.</summary>
    public string ExtraPeerB { get; init; } = "";
}

/// <summary>
/// DESIGN §5's gateway lab: the gateway (198.51.100.10) runs <c>portcullis gateway --config</c> with public
/// interface eth0; clients A (203.0.113.21, tunnel address allocated: 10.99.0.2) and B (.22, configured: 10.99.0.3)
/// run wireguard-go + wg routed as wg-quick does (AllowedIPs 0.0.0.0/0, fwmark 51820, the two ip rules); a remote
/// host (192.0.2.100) is "someone on the internet".
/// </summary>
internal sealed class GatewayLab : IAsyncDisposable
{
    public const string GatewayTunnelAddress = "10.99.0.1";
    public const string PublicAddress = "198.51.100.10";
    public const string AddressA = "10.99.0.2";
    public const string AddressB = "10.99.0.3";
    public const int ListenPort = 51820;

    private GatewayLab(LabNetwork network, LabHost gateway, LabHost clientA, LabHost clientB, LabHost remote)
    {
        Network = network;
        Gateway = gateway;
        ClientA = clientA;
        ClientB = clientB;
        Remote = remote;
    }

    public LabNetwork Network { get; }
    public LabHost Gateway { get; }
    public LabHost ClientA { get; }
    public LabHost ClientB { get; }
    public LabHost Remote { get; }
    public WireGuardKeys GatewayKeys { get; private set; } = null!;
    public WireGuardDevice TunnelA { get; private set; } = null!;
    public WireGuardDevice TunnelB { get; private set; } = null!;
    public string ConfigPath { get; private set; } = "";
    public string PublicKeyA { get; private set; } = "";
    public string PublicKeyB { get; private set; } = "";
    public string GatewayInterface { get; private set; } = "";

    /// <summary>The gateway's SQLite store ([store] path).</summary>
    public string StorePath { get; private set; } = "";

    /// <summary>The running (or last started) gateway process.</summary>
    public LabProcess GatewayProcess { get; private set; } = null!;

    public static async Task<GatewayLab> StartAsync(GatewayLabOptions? options = null)
    {
        options ??= new GatewayLabOptions();
        var network = await LabNetwork.CreateAsync();
        try
        {
            var lab = new GatewayLab(
                network,
                await network.AddHostAsync("gateway", LabSegment.Gateway, PublicAddress),
                await network.AddHostAsync("clienta", LabSegment.Home, "203.0.113.21"),
                await network.AddHostAsync("clientb", LabSegment.Home, "203.0.113.22"),
                await network.AddHostAsync("remote", LabSegment.Remote, "192.0.2.100"));
            await lab.StartAllAsync(options);
            return lab;
        }
        catch
        {
            await network.DisposeAsync();
            throw;
        }
    }

    private async Task StartAllAsync(GatewayLabOptions options)
    {
        GatewayKeys = await WgTools.GenerateKeysAsync();
        var keysA = await WgTools.GenerateKeysAsync();
        var keysB = await WgTools.GenerateKeysAsync();
        GatewayInterface = Network.NewInterfaceName();
        var directory = Network.CreateTempDirectory();
        ConfigPath = Path.Combine(directory, "gw.toml");
        StorePath = Path.Combine(directory, "store", "portcullis.db");
        await WgTools.WritePrivateFileAsync(ConfigPath, $"""
            [tunnel]
            interface       = "{GatewayInterface}"
            private_key     = "{GatewayKeys.PrivateKey}"
            listen_port     = {ListenPort}
            address         = "{GatewayTunnelAddress}/16"
            session_timeout = {options.SessionTimeoutSeconds}

            [nat]
            public_interface = "eth0"
            public_addresses = ["{PublicAddress}"]

            [forwarding]
            enabled      = {(options.ForwardingEnabled ? "true" : "false")}
            port_range   = "20000-59999"
            max_per_peer = {options.MaxPerPeer}
            {(options.MinLifetimeSeconds is { } min ? $"min_lifetime = {min}" : "")}
            {options.ExtraForwarding}

            [store]
            path = "{StorePath}"

            [[peer]]
            name       = "a"
            public_key = "{keysA.PublicKey}"
            {options.ExtraPeerA}

            [[peer]]
            name       = "b"
            public_key = "{keysB.PublicKey}"
            address    = "{AddressB}"
            {options.ExtraPeerB}
            """);
        PublicKeyA = keysA.PublicKey;
        PublicKeyB = keysB.PublicKey;
        await StartGatewayAsync();
        TunnelA = await StartClientAsync(ClientA, keysA, AddressA);
        TunnelB = await StartClientAsync(ClientB, keysB, AddressB);
    }

    /// <summary>Starts <c>portcullis gateway --config</c> and returns once it says it is up.</summary>
    public async Task StartGatewayAsync() => GatewayProcess = await GatewayDaemon.StartAsync(Gateway, ConfigPath);

    /// <summary>SIGKILL: no chance to clean up, as a crash or an OOM kill.</summary>
    public Task KillGatewayAsync() => GatewayDaemon.KillAsync(GatewayProcess);

    /// <summary>Where the gateway remembers its peers' endpoints for a crash (README: Restarts and crashes).</summary>
    public string EndpointFile => $"/run/portcullis/{GatewayInterface}.endpoints";

    /// <summary>Waits until the gateway's endpoint memory names every one of <paramref name="publicKeys"/>.</summary>
    public async Task WaitForRememberedAsync(params string[] publicKeys)
    {
        var remembered = await Wait.UntilAsync(() =>
        {
            var text = File.Exists(EndpointFile) ? File.ReadAllText(EndpointFile) : "";
            return Task.FromResult(publicKeys.All(k => text.Contains(k + " ", StringComparison.Ordinal)));
        }, TimeSpan.FromSeconds(15), TimeSpan.FromMilliseconds(100));
        if (!remembered)
            throw new Xunit.Sdk.XunitException($"the gateway never remembered the peers' endpoints in {EndpointFile}\n{Diagnostics()}");
    }

    // wg-quick's full tunnel, by hand: AllowedIPs 0/0, fwmark on the encrypted packets, the two rules.
    private Task<WireGuardDevice> StartClientAsync(LabHost client, WireGuardKeys keys, string address) =>
        StockClient.StartAsync(client, keys.PrivateKey, GatewayKeys.PublicKey, $"{PublicAddress}:{ListenPort}",
            $"{address}/16", GatewayTunnelAddress, TimeSpan.FromSeconds(10), Diagnostics);

    /// <summary>
    /// The client drops its session and starts afresh (as a restarted client would): without this a stock client
    /// whose gateway lost its keys waits out KEEPALIVE + REKEY_TIMEOUT (15 s) before it handshakes again.
    /// </summary>
    public async Task ReconnectAsync(WireGuardDevice tunnel)
    {
        await tunnel.SetAsync("peer", GatewayKeys.PublicKey, "remove");
        await tunnel.SetAsync("peer", GatewayKeys.PublicKey, "endpoint", $"{PublicAddress}:{ListenPort}",
            "allowed-ips", "0.0.0.0/0", "persistent-keepalive", "3");
        if (!await tunnel.Host.PingUntilAsync(GatewayTunnelAddress, TimeSpan.FromSeconds(10)))
            throw new Xunit.Sdk.XunitException($"{tunnel.Host} did not reconnect\n{Diagnostics()}");
    }

    /// <summary>The gateway's whole ruleset (DESIGN §6: mappings are elements "… PORT : ADDRESS . PORT").</summary>
    public Task<string> RulesetAsync() => Gateway.RunCheckedAsync("nft", "list", "ruleset");

    public static string Element(int publicPort, string tunnelAddress, int internalPort) =>
        $"{publicPort} : {tunnelAddress} . {internalPort}";

    /// <summary>Polls the ruleset until <paramref name="condition"/> holds or <paramref name="timeout"/> passes.</summary>
    public Task<bool> WaitForRulesetAsync(Func<string, bool> condition, TimeSpan timeout) =>
        Wait.UntilAsync(async () => condition(await RulesetAsync()), timeout, TimeSpan.FromMilliseconds(250));

    public string Diagnostics() => Network.Diagnostics();

    public ValueTask DisposeAsync() => Network.DisposeAsync();
}
