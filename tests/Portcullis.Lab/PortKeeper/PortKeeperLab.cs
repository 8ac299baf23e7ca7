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

    private PortKeeperLab(LabNetwork network, LabHost gateway, LabHost client, LabHost remote, string directory)
    {
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

    public static async Task<PortKeeperLab> CreateAsync()
    {
        var network = await LabNetwork.CreateAsync();
        try
        {
            var lab = new PortKeeperLab(
                network,
                await network.AddHostAsync("gateway", LabSegment.Gateway, PublicAddress),
                await network.AddHostAsync("client", LabSegment.Home, "203.0.113.21"),
                await network.AddHostAsync("remote", LabSegment.Remote, "192.0.2.100"),
                network.CreateTempDirectory());
            var gatewayKeys = await WgTools.GenerateKeysAsync();
            var clientKeys = await WgTools.GenerateKeysAsync();
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

                [store]
                path = "{lab.Directory}/store/portcullis.db"

                [[peer]]
                name       = "client"
                public_key = "{clientKeys.PublicKey}"
                address    = "{ClientTunnelAddress}"
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
