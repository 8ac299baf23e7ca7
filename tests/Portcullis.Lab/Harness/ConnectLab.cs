using Portcullis.Lab.Gateway;

namespace Portcullis.Lab.Harness;

/// <summary>
/// What a lab for our own client starts from: our gateway (198.51.100.10), a client host (203.0.113.21) that runs
/// <c>portcullis connect</c>, a remote host (192.0.2.100) and a lab temp directory for their files. Disposal
/// disconnects the client, ends the network and removes what the client left under /run/portcullis.
/// </summary>
internal abstract class ConnectLab : IAsyncDisposable
{
    protected ConnectLab(Hosts hosts)
    {
        Network = hosts.Network;
        Gateway = hosts.Gateway;
        Client = hosts.Client;
        Remote = hosts.Remote;
        Directory = hosts.Directory;
        Interface = Network.NewInterfaceName();
        GatewayInterface = Network.NewInterfaceName();
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
    public string ClientConfig => Path.Combine(Directory, Interface + ".conf");
    public LabProcess GatewayProcess { get; private set; } = null!;

    /// <summary>Starts <c>portcullis gateway --config</c> and returns once it says it is up.</summary>
    public async Task StartGatewayAsync() => GatewayProcess = await GatewayDaemon.StartAsync(Gateway, GatewayConfig);

    /// <summary>Starts <c>portcullis connect</c> with the given options; returns once the state file says "up".</summary>
    public Task<LabProcess> ConnectAsync(params string[] options) =>
        PortcullisClient.ConnectAsync(Client, ClientConfig, Interface, options);

    public ValueTask DisposeAsync() => PortcullisClient.DisposeLabAsync(Client, Interface, Network);

    /// <summary>
    /// The three hosts, the gateway at <paramref name="publicAddress"/>, and the temp directory. The client gets a
    /// resolv.conf of its own (see <see cref="PortcullisClient.IsolateResolvConf"/>), so a config with DNS = changes it
    /// and never the machine's.
    /// </summary>
    protected static async Task<Hosts> AddHostsAsync(LabNetwork network, string publicAddress)
    {
        var gateway = await network.AddHostAsync("gateway", LabSegment.Gateway, publicAddress);
        var client = await network.AddHostAsync("client", LabSegment.Home, "203.0.113.21");
        PortcullisClient.IsolateResolvConf(client);
        return new(network, gateway, client, await network.AddHostAsync("remote", LabSegment.Remote, "192.0.2.100"), network.CreateTempDirectory());
    }

    protected sealed record Hosts(LabNetwork Network, LabHost Gateway, LabHost Client, LabHost Remote, string Directory);
}
