using System.Globalization;
using Portcullis.Lab.Gateway;
using Portcullis.Lab.Harness;

namespace Portcullis.Lab.PortKeeper;

/// <summary>
/// Our gateway (198.51.100.10, <c>portcullis gateway</c>) and our client (203.0.113.21, <c>portcullis connect
/// --forward</c>), with a remote host (192.0.2.100). The client's port file and hook output live in a lab temp
/// directory; the state file under /run/portcullis is removed with the lab.
/// </summary>
internal sealed class PortKeeperLab : ConnectLab
{
    public const string PublicAddress = "198.51.100.10";
    public const string GatewayTunnelAddress = "10.99.0.1";
    public const string ClientTunnelAddress = "10.99.0.2";
    public const int ListenPort = 51820;
    public const string OtherTunnelAddress = "10.99.0.3";
    private readonly WireGuardKeys _gatewayKeys;
    private readonly WireGuardKeys _otherKeys;

    private PortKeeperLab(Hosts hosts, WireGuardKeys gatewayKeys, WireGuardKeys otherKeys)
        : base(hosts)
    {
        _gatewayKeys = gatewayKeys;
        _otherKeys = otherKeys;
    }

    public string PortFile => Path.Combine(Directory, "port");
    public string HookFile => Path.Combine(Directory, "hook.log");

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
            var lab = new PortKeeperLab(await AddHostsAsync(network, PublicAddress), gatewayKeys, otherKeys);
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
        await StockClient.StartAsync(other, _otherKeys.PrivateKey, _gatewayKeys.PublicKey, $"{PublicAddress}:{ListenPort}",
            $"{OtherTunnelAddress}/16", GatewayTunnelAddress, TimeSpan.FromSeconds(15), Diagnostics);
        return other;
    }

    /// <summary>SIGKILL: no chance to clean up, as a crash or an OOM kill.</summary>
    public Task KillGatewayAsync() => GatewayDaemon.KillAsync(GatewayProcess);

    /// <summary>The port in the port file, or null while there is none (or it is being read mid-test).</summary>
    public int? ReadPortFile() =>
        File.Exists(PortFile) && int.TryParse(File.ReadAllText(PortFile).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var port) ? port : null;

    public string[] HookLines() => File.Exists(HookFile) ? File.ReadAllLines(HookFile) : [];

    public Task<string> RulesetAsync() => Gateway.RunCheckedAsync("nft", "list", "ruleset");

    public static string Element(int publicPort, int internalPort) => $"{publicPort} : {ClientTunnelAddress} . {internalPort}";

    public static Task<bool> WaitAsync(Func<Task<bool>> condition, TimeSpan timeout) =>
        Wait.UntilAsync(condition, timeout, TimeSpan.FromMilliseconds(250));

    public string Diagnostics() => Network.Diagnostics();
}
