using System.Globalization;
using Portcullis.Lab.Gateway;
using Portcullis.Lab.Harness;

namespace Portcullis.Lab.PortKeeper;

/// <summary>
/// Our gateway (198.51.100.10, <c>portcullis gateway</c>) and our client (203.0.113.21, <c>portcullis connect
/// --forward</c>), with a remote host (192.0.2.100). The client's port file and hook output live in a lab temp
/// directory; the state file under /run/portcullis is removed with the lab.
/// </summary>
internal sealed class PortKeeperLab : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(20);
    public const string PublicAddress = "198.51.100.10";
    public const string ClientTunnelAddress = "10.99.0.2";
    public const int ListenPort = 51820;
    public const string OtherTunnelAddress = "10.99.0.3";
    public const string GatewayTunnelAddress = "10.99.0.1";
    private const int StockFwMark = 51820;
    private readonly WireGuardKeys _gatewayKeys;
    private readonly WireGuardKeys _otherKeys;

    private PortKeeperLab(LabNetwork network, LabHost gateway, LabHost client, LabHost remote, string directory, WireGuardKeys gatewayKeys, WireGuardKeys otherKeys)
    {
        _gatewayKeys = gatewayKeys;
        _otherKeys = otherKeys;
        Network = network;
        Gateway = gateway;
        Client = client;
        Remote = remote;
        Directory = directory;
        Interface = network.NewInterfaceName();
        GatewayInterface = network.NewInterfaceName();
    }

    public LabNetwork Network { get; }
    public LabHost Gateway { get; }
    public LabHost Client { get; }
    public LabHost Remote { get; }
    public string Directory { get; }
    public string Interface { get; }
    public string GatewayInterface { get; }
    public string PortFile => Path.Combine(Directory, "port");
    public string HookFile => Path.Combine(Directory, "hook.log");
    public string GatewayConfig => Path.Combine(Directory, "gw.toml");
    public string ClientConfig => Path.Combine(Directory, Interface + ".conf");
    public LabProcess GatewayProcess { get; private set; } = null!;

    /// <summary>
    /// The lab; <paramref name="allowSuggestedPort"/> sets the gateway's allow_suggested_port (off by default, as
    /// the gateway's own default). A second peer ("other", <see cref="OtherTunnelAddress"/>) is configured at the
    /// gateway; its host and stock client start only with <see cref="StartOtherClientAsync"/>.
    /// </summary>
    public static async Task<PortKeeperLab> CreateAsync(bool allowSuggestedPort = false)
    {
        var network = await LabNetwork.CreateAsync();
        try
        {
            var gatewayKeys = await WgTools.GenerateKeysAsync();
            var clientKeys = await WgTools.GenerateKeysAsync();
            var otherKeys = await WgTools.GenerateKeysAsync();
            var lab = new PortKeeperLab(
                network,
                await network.AddHostAsync("gateway", LabSegment.Gateway, PublicAddress),
                await network.AddHostAsync("client", LabSegment.Home, "203.0.113.21"),
                await network.AddHostAsync("remote", LabSegment.Remote, "192.0.2.100"),
                network.CreateTempDirectory(),
                gatewayKeys,
                otherKeys);
            await WgTools.WritePrivateFileAsync(lab.GatewayConfig, $"""
                [tunnel]
                interface       = "{lab.GatewayInterface}"
                private_key     = "{gatewayKeys.PrivateKey}"
                listen_port     = {ListenPort}
                address         = "10.99.0.1/16"
                session_timeout = 30

                [nat]
                public_interface = "eth0"
                public_addresses = ["{PublicAddress}"]

                [forwarding]
                enabled      = true
                port_range   = "20000-59999"
                max_per_peer = 4
                allow_suggested_port = {(allowSuggestedPort ? "true" : "false")}

                [store]
                path = "{lab.Directory}/store/portcullis.db"

                [[peer]]
                name       = "client"
                public_key = "{clientKeys.PublicKey}"
                address    = "{ClientTunnelAddress}"

                [[peer]]
                name       = "other"
                public_key = "{otherKeys.PublicKey}"
                address    = "{OtherTunnelAddress}"
                """);
            await WgTools.WritePrivateFileAsync(lab.ClientConfig, $"""
                [Interface]
                PrivateKey = {clientKeys.PrivateKey}
                Address = {ClientTunnelAddress}/16

                [Peer]
                PublicKey = {gatewayKeys.PublicKey}
                Endpoint = {PublicAddress}:{ListenPort}
                AllowedIPs = 0.0.0.0/0
                PersistentKeepalive = 3
                """);
            return lab;
        }
        catch
        {
            await network.DisposeAsync();
            throw;
        }
    }

    /// <summary>The client's LAN neighbour (203.0.113.30), added on demand.</summary>
    public Task<LabHost> AddNeighbourAsync() => Network.AddHostAsync("neighbour", LabSegment.Home, "203.0.113.30");

    /// <summary>
    /// Another user of the gateway (198.51.100.22): stock wireguard-go routed as wg-quick does a full tunnel
    /// (AllowedIPs 0/0, fwmark on the encrypted packets, the two rules); returns once it reaches the gateway. It sits
    /// on the gateway's segment, the one segment where neither our client nor the remote host is: wg-quick's
    /// suppress_prefixlength rule sends traffic to a directly connected network around the tunnel, so on a shared
    /// segment it would answer them directly, which no test wants.
    /// </summary>
    public async Task<LabHost> StartOtherClientAsync()
    {
        var other = await Network.AddHostAsync("other", LabSegment.Gateway, "198.51.100.22");
        var device = await WireGuardDevice.StartAsync(other, WireGuardImplementation.WireGuardGo);
        await device.SetConfAsync($"""
            [Interface]
            PrivateKey = {_otherKeys.PrivateKey}
            FwMark = {StockFwMark}

            [Peer]
            PublicKey = {_gatewayKeys.PublicKey}
            Endpoint = {PublicAddress}:{ListenPort}
            AllowedIPs = 0.0.0.0/0
            PersistentKeepalive = 3
            """);
        await device.UpAsync($"{OtherTunnelAddress}/16");
        var mark = StockFwMark.ToString(CultureInfo.InvariantCulture);
        await other.RunCheckedAsync("ip", "route", "add", "0.0.0.0/0", "dev", device.Interface, "table", mark);
        await other.RunCheckedAsync("ip", "rule", "add", "not", "fwmark", mark, "table", mark);
        await other.RunCheckedAsync("ip", "rule", "add", "table", "main", "suppress_prefixlength", "0");
        await other.RunCheckedAsync("sysctl", "-q", "-w", "net.ipv4.conf.all.src_valid_mark=1");
        if (!await other.PingUntilAsync(GatewayTunnelAddress, TimeSpan.FromSeconds(15)))
            throw new Xunit.Sdk.XunitException($"{other} never reached the gateway through the tunnel\n{Diagnostics()}");
        return other;
    }

    /// <summary>Starts <c>portcullis gateway --config</c> and returns once it says it is up.</summary>
    public async Task StartGatewayAsync() => GatewayProcess = await GatewayDaemon.StartAsync(Gateway, GatewayConfig);

    /// <summary>SIGKILL: no chance to clean up, as a crash or an OOM kill.</summary>
    public Task KillGatewayAsync() => GatewayDaemon.KillAsync(GatewayProcess);

    /// <summary>Starts <c>portcullis connect</c> with the given options; returns once the state file says "up".</summary>
    public async Task<LabProcess> ConnectAsync(params string[] options)
    {
        var process = Client.Start([LabBinaries.Portcullis, "connect", "--config", ClientConfig, .. options], environment: null);
        var deadline = DateTime.UtcNow + StartTimeout;
        while (true)
        {
            if (process.HasExited)
                throw new LabCommandException($"connect exited with {process.ExitCode}:\n{process.Output}");
            var state = File.Exists(StatePath) ? await File.ReadAllTextAsync(StatePath) : "";
            if (state.Contains("phase=up", StringComparison.Ordinal))
                return process;
            if (DateTime.UtcNow > deadline)
                throw new LabCommandException($"connect did not come up in {StartTimeout}:\n{process.Output}");
            await Task.Delay(100);
        }
    }

    private string StatePath => $"/run/portcullis/{Interface}.state";

    /// <summary>The port in the port file, or null while there is none (or it is being read mid-test).</summary>
    public int? ReadPortFile() =>
        File.Exists(PortFile) && int.TryParse(File.ReadAllText(PortFile).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var port) ? port : null;

    public string[] HookLines() => File.Exists(HookFile) ? File.ReadAllLines(HookFile) : [];

    public Task<string> RulesetAsync() => Gateway.RunCheckedAsync("nft", "list", "ruleset");

    public static string Element(int publicPort, int internalPort) => $"{publicPort} : {ClientTunnelAddress} . {internalPort}";

    public static async Task<bool> WaitAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        do
        {
            if (await condition())
                return true;
            await Task.Delay(250);
        }
        while (DateTime.UtcNow < deadline);
        return false;
    }

    public string Diagnostics() => Network.Diagnostics();

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Client.RunAsync([LabBinaries.Portcullis, "disconnect", "--interface", Interface], RunOptions.Default with { Timeout = TimeSpan.FromSeconds(30) });
        }
        finally
        {
            await Network.DisposeAsync();
            foreach (var leftover in new[] { ".state", ".resolv.conf", ".state.tmp" })
            {
                if (File.Exists($"/run/portcullis/{Interface}{leftover}"))
                    File.Delete($"/run/portcullis/{Interface}{leftover}");
            }
        }
    }
}
