using System.Text.Json;
using Portcullis.Lab.Gateway;
using Portcullis.Lab.Harness;

namespace Portcullis.Lab.Admin;

/// <summary>
/// Our gateway (198.51.100.10) with [admin] on 127.0.0.1:8351 inside its namespace and no peer in its file; a client
/// host (203.0.113.21) that will run <c>portcullis connect</c> with whatever config <c>portcullis peer add</c> printed;
/// a remote host (192.0.2.100). The CLI runs in the gateway's namespace and finds the API through --config.
/// </summary>
internal sealed class AdminLab : IAsyncDisposable
{
    public const string PublicAddress = "198.51.100.10";
    public const string GatewayTunnelAddress = "10.99.0.1";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(20);

    private AdminLab(LabNetwork network, LabHost gateway, LabHost client, LabHost remote, string directory)
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

    /// <summary>The client's interface (its config file is named after it).</summary>
    public string Interface { get; }
    public string GatewayInterface { get; }
    public string GatewayConfig => Path.Combine(Directory, "gw.toml");
    public string TokenFile => Path.Combine(Directory, "admin.token");
    public string ClientConfig => Path.Combine(Directory, Interface + ".conf");
    public LabProcess GatewayProcess { get; private set; } = null!;

    public static async Task<AdminLab> StartAsync()
    {
        var network = await LabNetwork.CreateAsync();
        try
        {
            var lab = new AdminLab(
                network,
                await network.AddHostAsync("gateway", LabSegment.Gateway, PublicAddress),
                await network.AddHostAsync("client", LabSegment.Home, "203.0.113.21"),
                await network.AddHostAsync("remote", LabSegment.Remote, "192.0.2.100"),
                network.CreateTempDirectory());
            var gatewayKeys = await WgTools.GenerateKeysAsync();
            await WgTools.WritePrivateFileAsync(lab.GatewayConfig, $"""
                [tunnel]
                interface       = "{lab.GatewayInterface}"
                private_key     = "{gatewayKeys.PrivateKey}"
                listen_port     = 51820
                address         = "{GatewayTunnelAddress}/16"
                session_timeout = 30

                [nat]
                public_interface = "eth0"
                public_addresses = ["{PublicAddress}"]

                [store]
                path = "{lab.Directory}/store/portcullis.db"

                [admin]
                listen     = "127.0.0.1:8351"
                token_file = "admin.token"
                """);
            lab.GatewayProcess = await GatewayDaemon.StartAsync(lab.Gateway, lab.GatewayConfig);
            return lab;
        }
        catch
        {
            await network.DisposeAsync();
            throw;
        }
    }

    /// <summary>`portcullis ARGS --config GW` in the gateway's namespace.</summary>
    public Task<CommandResult> CliAsync(params string[] arguments) =>
        Gateway.RunAsync([LabBinaries.Portcullis, .. arguments, "--config", GatewayConfig], RunOptions.Default with { Timeout = TimeSpan.FromSeconds(30) });

    /// <summary>Runs the CLI with --json, insists on exit 0, and parses what it printed.</summary>
    public async Task<JsonElement> CliJsonAsync(params string[] arguments)
    {
        var result = await CliAsync([.. arguments, "--json"]);
        if (!result.Succeeded)
            throw new LabCommandException(result);
        using var document = JsonDocument.Parse(result.Stdout);
        return document.RootElement.Clone();
    }

    /// <summary>Starts <c>portcullis connect</c> on the client; returns once its state file says "up".</summary>
    public async Task<LabProcess> ConnectAsync()
    {
        var process = Client.Start([LabBinaries.Portcullis, "connect", "--config", ClientConfig], environment: null);
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

    public static async Task<bool> WaitAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        do
        {
            if (await condition())
                return true;
            await Task.Delay(200);
        }
        while (DateTime.UtcNow < deadline);
        return false;
    }

    public string Diagnostics() => $"{Network.Diagnostics()}\n{GatewayProcess}";

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
