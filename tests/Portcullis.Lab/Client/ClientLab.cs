using Portcullis.Lab.Harness;

namespace Portcullis.Lab.Client;

/// <summary>
/// The client lab (DESIGN.md section 5): a stock wireguard-go gateway at 198.51.100.10 that masquerades onto the
/// internet, our `portcullis connect` on the home LAN at 203.0.113.21, a LAN neighbour at 203.0.113.30 and a remote
/// host at 192.0.2.100. The client's resolv.conf is the per-namespace /etc/netns/NS/resolv.conf that `ip netns exec`
/// bind-mounts, so the machine's own file is never touched; it is removed with the lab.
/// </summary>
internal sealed class ClientLab : IAsyncDisposable
{
    public const int ListenPort = 51820;
    public const string GatewayInner = "10.99.0.1";
    public const string ClientInner = "10.99.0.2";
    public const string OriginalResolvConf = "nameserver 192.0.2.53\n";
    private readonly string _netnsEtc;

    private ClientLab(LabNetwork network, LabHost gateway, LabHost client, LabHost neighbour, LabHost remote, WireGuardKeys gatewayKeys, WireGuardKeys clientKeys)
    {
        Network = network;
        Gateway = gateway;
        Client = client;
        Neighbour = neighbour;
        Remote = remote;
        GatewayKeys = gatewayKeys;
        ClientKeys = clientKeys;
        Interface = network.NewInterfaceName();
        ConfigPath = Path.Combine(network.CreateTempDirectory(), Interface + ".conf");
        _netnsEtc = Path.Combine("/etc/netns", client.Namespace);
    }

    public LabNetwork Network { get; }

    public LabHost Gateway { get; }

    public LabHost Client { get; }

    public LabHost Neighbour { get; }

    public LabHost Remote { get; }

    public WireGuardKeys GatewayKeys { get; }

    public WireGuardKeys ClientKeys { get; }

    /// <summary>The client's tunnel interface: the config file is named after it, as wg-quick names interfaces.</summary>
    public string Interface { get; }

    public string ConfigPath { get; }

    public WireGuardDevice? GatewayDevice { get; private set; }

    public static async Task<ClientLab> CreateAsync()
    {
        var network = await LabNetwork.CreateAsync();
        try
        {
            var gateway = await network.AddHostAsync("gateway", LabSegment.Gateway, "198.51.100.10");
            var client = await network.AddHostAsync("client", LabSegment.Home, "203.0.113.21");
            var neighbour = await network.AddHostAsync("neighbour", LabSegment.Home, "203.0.113.30");
            var remote = await network.AddHostAsync("remote", LabSegment.Remote, "192.0.2.100");
            var lab = new ClientLab(network, gateway, client, neighbour, remote, await WgTools.GenerateKeysAsync(), await WgTools.GenerateKeysAsync());
            Directory.CreateDirectory(lab._netnsEtc);
            await File.WriteAllTextAsync(lab.ResolvConfPath, OriginalResolvConf);
            await WgTools.WritePrivateFileAsync(lab.ConfigPath, $"""
                [Interface]
                PrivateKey = {lab.ClientKeys.PrivateKey}
                Address = 10.99.0.2/16, fd99::2/64
                DNS = 10.99.0.1

                [Peer]
                PublicKey = {lab.GatewayKeys.PublicKey}
                Endpoint = {gateway.Address}:{ListenPort}
                AllowedIPs = 0.0.0.0/0, ::/0
                PersistentKeepalive = 5
                """);
            return lab;
        }
        catch
        {
            await network.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// A namespace routed through the client (172.30.0.2, fd30::2), as a container, a VM or a LAN behind it: the
    /// client forwards IPv4 and IPv6 and masquerades the guest's IPv4 on every other interface, as Docker does (the
    /// gateway accepts only the client's tunnel address, so what enters the tunnel must carry it).
    /// </summary>
    public async Task<LabHost> AddGuestAsync()
    {
        var guest = await Network.AddRoutedHostAsync("guest", Client, "172.30.0", "fd30:0:0:1");
        await Client.RunCheckedAsync("sysctl", "-q", "-w", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1");
        await Client.RunCheckedAsync("nft", "add", "table", "ip", "labguest");
        await Client.RunCheckedAsync("nft", "add", "chain", "ip", "labguest", "post", "{ type nat hook postrouting priority srcnat ; }");
        await Client.RunCheckedAsync("nft", "add", "rule", "ip", "labguest", "post", "ip", "saddr", "172.30.0.0/24", "oifname", "!=", "r-guest", "masquerade");
        return guest;
    }

    /// <summary>The file the client namespace sees as /etc/resolv.conf.</summary>
    public string ResolvConfPath => Path.Combine(_netnsEtc, "resolv.conf");

    /// <summary>Starts wireguard-go on the gateway; configured (keys, peer, masquerade) only when asked.</summary>
    public async Task StartGatewayAsync(bool configure)
    {
        GatewayDevice = await WireGuardDevice.StartAsync(Gateway, WireGuardImplementation.WireGuardGo);
        if (configure)
            await ConfigureGatewayAsync();
    }

    public async Task ConfigureGatewayAsync()
    {
        var device = GatewayDevice ?? throw new InvalidOperationException("gateway not started");
        await device.SetConfAsync($"""
            [Interface]
            PrivateKey = {GatewayKeys.PrivateKey}
            ListenPort = {ListenPort}

            [Peer]
            PublicKey = {ClientKeys.PublicKey}
            AllowedIPs = 10.99.0.2/32, fd99::2/128
            """);
        await device.UpAsync("10.99.0.1/16", "fd99::1/64");
        await Gateway.RunCheckedAsync("sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
        await Gateway.RunCheckedAsync("nft", "add", "table", "ip", "lab");
        await Gateway.RunCheckedAsync("nft", "add", "chain", "ip", "lab", "post", "{ type nat hook postrouting priority 100 ; }");
        await Gateway.RunCheckedAsync("nft", "add", "rule", "ip", "lab", "post", "oifname", "eth0", "masquerade");
    }

    /// <summary>Starts `portcullis connect` in the client namespace and waits until its interface is up.</summary>
    public async Task<LabProcess> ConnectAsync(params string[] options)
    {
        var process = Client.Start([LabBinaries.Portcullis, "connect", "--config", ConfigPath, .. options], environment: null);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            if (process.HasExited)
                throw new LabCommandException($"connect exited with {process.ExitCode}:\n{process.Output}");
            var link = await Client.RunAsync("ip", "-o", "link", "show", Interface);
            var status = File.Exists($"/run/portcullis/{Interface}.state") ? await File.ReadAllTextAsync($"/run/portcullis/{Interface}.state") : "";
            if (link.Succeeded && link.Stdout.Contains(",UP", StringComparison.Ordinal) && status.Contains("phase=up", StringComparison.Ordinal))
                return process;
            if (DateTime.UtcNow > deadline)
                throw new LabCommandException($"connect did not bring {Interface} up in 20 s:\n{process.Output}");
            await Task.Delay(100);
        }
    }

    public Task<CommandResult> PortcullisAsync(params string[] arguments) =>
        Client.RunAsync([LabBinaries.Portcullis, .. arguments], RunOptions.Default with { Timeout = TimeSpan.FromSeconds(30) });

    public async Task<bool> KillSwitchPresentAsync() =>
        (await Client.RunAsync("nft", "list", "table", "inet", "portcullis_killswitch")).Succeeded;

    public async ValueTask DisposeAsync()
    {
        try
        {
            // Whatever a failing test left in the client namespace (kill switch, rules) goes with the namespace;
            // the state files under /run are shared with the host, so they are removed here.
            await PortcullisAsync("disconnect", "--interface", Interface);
        }
        finally
        {
            await Network.DisposeAsync();
            if (Directory.Exists(_netnsEtc))
                Directory.Delete(_netnsEtc, recursive: true);
            foreach (var leftover in new[] { ".state", ".resolv.conf", ".state.tmp" })
            {
                if (File.Exists($"/run/portcullis/{Interface}{leftover}"))
                    File.Delete($"/run/portcullis/{Interface}{leftover}");
            }
        }
    }
}
