using System.Text.Json;
using Portcullis.Lab.Harness;

namespace Portcullis.Lab.Admin;

/// <summary>
/// Our gateway (198.51.100.10) with [admin] on 127.0.0.1:8351 inside its namespace and no peer in its file; a client
/// host (203.0.113.21) that will run <c>portcullis connect</c> with whatever config <c>portcullis peer add</c> printed;
/// a remote host (192.0.2.100). The CLI runs in the gateway's namespace and finds the API through --config.
/// </summary>
internal sealed class AdminLab : ConnectLab
{
    public const string PublicAddress = "198.51.100.10";
    public const string GatewayTunnelAddress = "10.99.0.1";

    private AdminLab(Hosts hosts)
        : base(hosts)
    {
    }

    public string TokenFile => Path.Combine(Directory, "admin.token");

    /// <summary>
    /// Starts the gateway; <paramref name="tunnelKeys"/> are more [tunnel] lines (e.g. <c>dns = [...]</c>);
    /// <paramref name="storeDirectory"/> holds the store instead of the lab directory's <c>store</c> (a tiny file system).
    /// </summary>
    /// <param name="natKeys">More [nat] lines (e.g. <c>public_addresses6 = [...]</c>).</param>
    public static async Task<AdminLab> StartAsync(string tunnelKeys = "", string? storeDirectory = null, string natKeys = "")
    {
        var network = await LabNetwork.CreateAsync();
        try
        {
            var lab = new AdminLab(await AddHostsAsync(network, PublicAddress));
            var gatewayKeys = await WgTools.GenerateKeysAsync();
            await WgTools.WritePrivateFileAsync(lab.GatewayConfig, $"""
                [tunnel]
                interface       = "{lab.GatewayInterface}"
                private_key     = "{gatewayKeys.PrivateKey}"
                listen_port     = 51820
                address         = "{GatewayTunnelAddress}/16"
                session_timeout = 30
                {tunnelKeys}

                [nat]
                public_interface = "eth0"
                public_addresses = ["{PublicAddress}"]
                {natKeys}

                [store]
                path = "{storeDirectory ?? lab.Directory + "/store"}/portcullis.db"

                [admin]
                listen     = "127.0.0.1:8351"
                token_file = "admin.token"
                """);
            await lab.StartGatewayAsync();
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

    public static Task<bool> WaitAsync(Func<Task<bool>> condition, TimeSpan timeout) =>
        Wait.UntilAsync(condition, timeout, TimeSpan.FromMilliseconds(200));

    public string Diagnostics() => $"{Network.Diagnostics()}\n{GatewayProcess}";
}
