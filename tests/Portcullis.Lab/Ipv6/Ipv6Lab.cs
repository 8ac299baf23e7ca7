using System.Globalization;
using Portcullis.Lab.Gateway;
using Portcullis.Lab.Harness;

namespace Portcullis.Lab.Ipv6;

/// <summary>
/// The gateway lab of DESIGN §5 with IPv6 in the tunnel: the gateway (198.51.100.10, 2001:db8:1::a) runs
/// <c>portcullis gateway</c> with either <c>[tunnel] address6 = "fd99::1/64"</c> and NAT66 to 2001:db8:1::a, or
/// <c>routed_prefix6 = "2001:db8:99::/64"</c> (the router then routes that prefix to the gateway, as a provider
/// would). Clients A (10.99.0.2) and B (10.99.0.3) are stock wireguard-go + wg routed as wg-quick does a dual-stack
/// full tunnel: AllowedIPs 0.0.0.0/0, ::/0, fwmark 51820 on the encrypted packets, the two rules in both families.
/// The remote host (192.0.2.100, 2001:db8:3::64) is "someone on the internet".
/// </summary>
internal sealed class Ipv6Lab : IAsyncDisposable
{
    public const string GatewayTunnelAddress = "10.99.0.1";
    public const string PublicAddress = "198.51.100.10";
    public const string AddressA = "10.99.0.2";
    public const string AddressB = "10.99.0.3";
    public const string RoutedPrefix = "2001:db8:99::/64";
    public const int ListenPort = 51820;
    private const int FwMark = 51820;

    private Ipv6Lab(LabNetwork network, LabHost gateway, LabHost clientA, LabHost clientB, LabHost remote, bool routed, Func<Ipv6Lab, string>? moreOfA)
    {
        _moreOfA = moreOfA;
        _forwarding = "";
        Network = network;
        Gateway = gateway;
        ClientA = clientA;
        ClientB = clientB;
        Remote = remote;
        Routed = routed;
    }

    private readonly Func<Ipv6Lab, string>? _moreOfA;
    private string _forwarding;

    public LabNetwork Network { get; }

    /// <summary>The gateway's config file; its [admin] listens on 127.0.0.1:8351 in the gateway's namespace.</summary>
    public string ConfigPath { get; private set; } = "";
    public LabHost Gateway { get; }
    public LabHost ClientA { get; }
    public LabHost ClientB { get; }
    public LabHost Remote { get; }
    public bool Routed { get; }

    /// <summary>The IPv6 tunnel prefix's addresses: fd99::… with NAT66, 2001:db8:99::… routed.</summary>
    public string Prefix6 => Routed ? "2001:db8:99::" : "fd99::";

    public string GatewayTunnelAddress6 => Prefix6 + "1";
    public string AddressA6 => Prefix6 + "2";
    public string AddressB6 => Prefix6 + "3";

    /// <summary>The gateway's public IPv6 address (its address on the gateway segment).</summary>
    public string PublicAddress6 => Gateway.Address6!;

    /// <param name="routed">A routed prefix instead of NAT66.</param>
    /// <param name="moreOfA">More TOML after client A's [[peer]] (e.g. its [[peer.forward]]), given the lab.</param>
    /// <param name="forwarding">Keys of a [forwarding] section (e.g. inbound limits, forward_all_dedicated_ports); none when empty.</param>
    public static async Task<Ipv6Lab> StartAsync(bool routed, Func<Ipv6Lab, string>? moreOfA = null, string forwarding = "")
    {
        var network = await LabNetwork.CreateAsync();
        try
        {
            var lab = new Ipv6Lab(
                network,
                await network.AddHostAsync("gateway", LabSegment.Gateway, PublicAddress),
                await network.AddHostAsync("clienta", LabSegment.Home, "203.0.113.21"),
                await network.AddHostAsync("clientb", LabSegment.Home, "203.0.113.22"),
                await network.AddHostAsync("remote", LabSegment.Remote, "192.0.2.100"),
                routed,
                moreOfA)
            { _forwarding = forwarding };
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
        var gatewayKeys = await WgTools.GenerateKeysAsync();
        var keysA = await WgTools.GenerateKeysAsync();
        var keysB = await WgTools.GenerateKeysAsync();
        var directory = Network.CreateTempDirectory();
        var configPath = ConfigPath = Path.Combine(directory, "gw.toml");
        var ipv6 = Routed ? $"routed_prefix6 = \"{RoutedPrefix}\"" : "address6 = \"fd99::1/64\"";
        var nat6 = Routed ? "" : $"public_addresses6 = [\"{PublicAddress6}\"]";
        await WgTools.WritePrivateFileAsync(configPath, $"""
            [tunnel]
            interface       = "{Network.NewInterfaceName()}"
            private_key     = "{gatewayKeys.PrivateKey}"
            listen_port     = {ListenPort}
            address         = "{GatewayTunnelAddress}/16"
            {ipv6}

            [nat]
            public_interface = "eth0"
            public_addresses = ["{PublicAddress}"]
            {nat6}
            {(_forwarding.Length > 0 ? $"\n[forwarding]\n{_forwarding}\n" : "")}

            [store]
            path = "{Path.Combine(directory, "store", "portcullis.db")}"

            [admin]
            listen     = "127.0.0.1:8351"
            token_file = "admin.token"

            [[peer]]
            name       = "a"
            public_key = "{keysA.PublicKey}"
            {_moreOfA?.Invoke(this)}

            [[peer]]
            name       = "b"
            public_key = "{keysB.PublicKey}"
            address    = "{AddressB}"
            """);
        if (Routed)
            await Network.Router.RunCheckedAsync("ip", "-6", "route", "add", RoutedPrefix, "via", PublicAddress6);
        else
            // A host that keeps IPv6 off on new interfaces (hardened images do): the gateway turns it on for its TUN.
            await Gateway.RunCheckedAsync("sysctl", "-q", "-w", "net.ipv6.conf.default.disable_ipv6=1");
        await GatewayDaemon.StartAsync(Gateway, configPath);
        await StartClientAsync(ClientA, keysA, gatewayKeys.PublicKey, AddressA, AddressA6);
        await StartClientAsync(ClientB, keysB, gatewayKeys.PublicKey, AddressB, AddressB6);
    }

    // wg-quick's dual-stack full tunnel, by hand: AllowedIPs 0/0 and ::/0, fwmark on the encrypted packets, the two
    // rules in each family. Returns once the gateway's IPv6 tunnel address answers through the tunnel.
    private async Task StartClientAsync(LabHost client, WireGuardKeys keys, string gatewayPublicKey, string address, string address6)
    {
        var device = await WireGuardDevice.StartAsync(client, WireGuardImplementation.WireGuardGo);
        await device.SetConfAsync($"""
            [Interface]
            PrivateKey = {keys.PrivateKey}
            FwMark = {FwMark}

            [Peer]
            PublicKey = {gatewayPublicKey}
            Endpoint = {PublicAddress}:{ListenPort}
            AllowedIPs = 0.0.0.0/0, ::/0
            PersistentKeepalive = 3
            """);
        await device.UpAsync($"{address}/16", $"{address6}/128");
        var mark = FwMark.ToString(CultureInfo.InvariantCulture);
        foreach (var (family, all) in ((string, string)[])[("-4", "0.0.0.0/0"), ("-6", "::/0")])
        {
            await client.RunCheckedAsync("ip", family, "route", "add", all, "dev", device.Interface, "table", mark);
            await client.RunCheckedAsync("ip", family, "rule", "add", "not", "fwmark", mark, "table", mark);
            await client.RunCheckedAsync("ip", family, "rule", "add", "table", "main", "suppress_prefixlength", "0");
        }
        await client.RunCheckedAsync("sysctl", "-q", "-w", "net.ipv4.conf.all.src_valid_mark=1");
        if (!await client.PingUntilAsync(GatewayTunnelAddress6, TimeSpan.FromSeconds(15)))
            throw new Xunit.Sdk.XunitException($"{client} never reached {GatewayTunnelAddress6} through the tunnel\n{Diagnostics()}");
    }

    /// <summary>`portcullis ARGS --config GW` in the gateway's namespace.</summary>
    public Task<CommandResult> CliAsync(params string[] arguments) =>
        Gateway.RunAsync([LabBinaries.Portcullis, .. arguments, "--config", ConfigPath], RunOptions.Default with { Timeout = TimeSpan.FromSeconds(30) });

    public string Diagnostics() => Network.Diagnostics();

    public ValueTask DisposeAsync() => Network.DisposeAsync();
}
