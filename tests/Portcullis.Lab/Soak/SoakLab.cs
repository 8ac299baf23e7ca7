using System.Globalization;
using Portcullis.Lab.Gateway;
using Portcullis.Lab.Harness;

namespace Portcullis.Lab.Soak;

/// <summary>One of the soak's peers: a lab host of its own, its keys, and its stock client while it is connected.</summary>
internal sealed class SoakPeer(LabHost host, WireGuardKeys keys, string tunnelAddress)
{
    public LabHost Host { get; } = host;
    public WireGuardKeys Keys { get; } = keys;
    public string TunnelAddress { get; } = tunnelAddress;
    public string Name => Host.Name;

    /// <summary>The gateway's opaque id for this peer (the kernel's lease comments carry it).</summary>
    public string Id { get; set; } = "";

    public WireGuardDevice? Tunnel { get; set; }

    /// <summary>When its client was stopped (null while connected or never connected).</summary>
    public DateTime? DownSince { get; set; }

    /// <summary>Mappings it holds by the soak's account: (protocol, internal port) → public port.</summary>
    public Dictionary<(string Protocol, int InternalPort), int> Mappings { get; } = [];

    public override string ToString() => $"{Name} ({TunnelAddress})";
}

/// <summary>
/// The soak's world: DESIGN §5's lab with one gateway (198.51.100.10, [admin] on its loopback), N peer hosts on the home
/// segment (203.0.113.21…), each configured in the gateway's TOML with a fixed tunnel address (10.99.1.1…), and a
/// remote host (192.0.2.100). Peers connect as stock clients (wireguard-go + wg, routed as wg-quick does) and map with
/// natpmpc. Sessions end after <see cref="SessionTimeout"/> without traffic.
/// </summary>
internal sealed class SoakLab : IAsyncDisposable
{
    public const string PublicAddress = "198.51.100.10";
    public const string GatewayTunnelAddress = "10.99.0.1";
    public static readonly TimeSpan SessionTimeout = TimeSpan.FromSeconds(10);

    private SoakLab(LabNetwork network, LabHost gateway, LabHost remote, IReadOnlyList<SoakPeer> peers, string directory)
    {
        Network = network;
        Gateway = gateway;
        Remote = remote;
        Peers = peers;
        Directory = directory;
    }

    public LabNetwork Network { get; }
    public LabHost Gateway { get; }
    public LabHost Remote { get; }
    public IReadOnlyList<SoakPeer> Peers { get; }
    public string Directory { get; }
    public string ConfigPath => Path.Combine(Directory, "gw.toml");
    public string GatewayInterface { get; private set; } = "";
    public WireGuardKeys GatewayKeys { get; private set; } = null!;
    public LabProcess GatewayProcess { get; private set; } = null!;

    public static async Task<SoakLab> StartAsync(int peerCount)
    {
        var network = await LabNetwork.CreateAsync();
        try
        {
            var gateway = await network.AddHostAsync("gateway", LabSegment.Gateway, PublicAddress);
            var remote = await network.AddHostAsync("remote", LabSegment.Remote, "192.0.2.100");
            var peers = new List<SoakPeer>(peerCount);
            for (var i = 0; i < peerCount; i++)
            {
                var host = await network.AddHostAsync($"p{i:D2}", LabSegment.Home, $"203.0.113.{21 + i}");
                peers.Add(new SoakPeer(host, await WgTools.GenerateKeysAsync(), $"10.99.1.{1 + i}"));
            }
            var lab = new SoakLab(network, gateway, remote, peers, network.CreateTempDirectory());
            await lab.WriteConfigAsync();
            await lab.StartGatewayAsync();
            return lab;
        }
        catch
        {
            await network.DisposeAsync();
            throw;
        }
    }

    private async Task WriteConfigAsync()
    {
        GatewayKeys = await WgTools.GenerateKeysAsync();
        GatewayInterface = Network.NewInterfaceName();
        var peers = string.Join("\n", Peers.Select(p => $"""
            [[peer]]
            name       = "{p.Name}"
            public_key = "{p.Keys.PublicKey}"
            address    = "{p.TunnelAddress}"

            """));
        await WgTools.WritePrivateFileAsync(ConfigPath, $"""
            [tunnel]
            interface       = "{GatewayInterface}"
            private_key     = "{GatewayKeys.PrivateKey}"
            listen_port     = 51820
            address         = "{GatewayTunnelAddress}/16"
            session_timeout = {(int)SessionTimeout.TotalSeconds}

            [nat]
            public_interface = "eth0"
            public_addresses = ["{PublicAddress}"]

            [forwarding]
            port_range          = "20000-20999"
            max_per_peer        = 4
            requests_per_second = 50
            burst               = 100
            reconnect_grace     = 30
            quarantine          = 30

            [store]
            path = "{Directory}/store/portcullis.db"

            [admin]
            listen     = "127.0.0.1:8351"
            token_file = "admin.token"

            {peers}
            """);
    }

    /// <summary>Starts the gateway; returns once it says it is up.</summary>
    public async Task StartGatewayAsync() => GatewayProcess = await GatewayDaemon.StartAsync(Gateway, ConfigPath);

    /// <summary>SIGKILL, as a crash or an OOM kill would.</summary>
    public Task KillGatewayAsync() => GatewayDaemon.KillAsync(GatewayProcess);

    /// <summary>Starts the peer's stock client; returns once the gateway answers its ping through the tunnel.</summary>
    public async Task ConnectAsync(SoakPeer peer)
    {
        peer.Tunnel = await StockClient.StartAsync(peer.Host, peer.Keys.PrivateKey, GatewayKeys.PublicKey, $"{PublicAddress}:51820",
            $"{peer.TunnelAddress}/16", GatewayTunnelAddress, TimeSpan.FromSeconds(30), Diagnostics);
        peer.DownSince = null;
    }

    /// <summary>Stops the peer's client (its interface goes with it) and the routing rules StockClient added.</summary>
    public async Task DisconnectAsync(SoakPeer peer)
    {
        if (peer.Tunnel is { } tunnel)
            await tunnel.DisposeAsync();
        peer.Tunnel = null;
        var mark = StockClient.FwMark.ToString(CultureInfo.InvariantCulture);
        await peer.Host.RunCheckedAsync("ip", "rule", "del", "not", "fwmark", mark, "table", mark);
        await peer.Host.RunCheckedAsync("ip", "rule", "del", "table", "main", "suppress_prefixlength", "0");
        peer.DownSince = DateTime.UtcNow;
    }

    /// <summary>`portcullis ARGS --json --config GW` in the gateway's namespace: the admin API's answer.</summary>
    public async Task<System.Text.Json.JsonElement> AdminAsync(params string[] arguments)
    {
        var result = await Gateway.RunAsync([LabBinaries.Portcullis, .. arguments, "--json", "--config", ConfigPath],
            RunOptions.Default with { Timeout = TimeSpan.FromSeconds(30) });
        if (!result.Succeeded)
            throw new LabCommandException(result);
        using var document = System.Text.Json.JsonDocument.Parse(result.Stdout);
        return document.RootElement.Clone();
    }

    public string Diagnostics() => $"{Network.Diagnostics()}";

    public ValueTask DisposeAsync() => Network.DisposeAsync();
}
