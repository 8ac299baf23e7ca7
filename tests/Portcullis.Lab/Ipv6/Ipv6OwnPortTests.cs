using Portcullis.Lab.Gateway;
using Portcullis.Lab.Harness;
using Portcullis.Lab.Tunnel;

namespace Portcullis.Lab.Ipv6;

/// <summary>
/// The gateway's own WireGuard port on its public IPv6 address stays its own even when table ip6 portcullis holds a
/// mapping for that very key (written straight into the map with nft, as nothing in the gateway would write it): a
/// stock wireguard-go client whose endpoint is the gateway's public IPv6 address still completes its handshake with
/// the gateway and reaches it through the tunnel, instead of its handshake being DNATed toward a peer.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class Ipv6OwnPortTests
{
    private const int ListenPort = 51820;

    [Fact]
    public async Task StockClient_OverIpv6ToTheWireGuardPort_MappingOnThatKeyInTheIp6Map_StillHandshakesWithTheGateway()
    {
        await using var network = await LabNetwork.CreateAsync();
        var gateway = await network.AddHostAsync("gateway", LabSegment.Gateway, "198.51.100.10");
        var client = await network.AddHostAsync("client", LabSegment.Home, "203.0.113.21");
        var gatewayKeys = await WgTools.GenerateKeysAsync();
        var clientKeys = await WgTools.GenerateKeysAsync();
        var directory = network.CreateTempDirectory();
        var configPath = Path.Combine(directory, "gw.toml");
        var tunnel = network.NewInterfaceName();
        var public6 = gateway.Address6!;
        await WgTools.WritePrivateFileAsync(configPath, $"""
            [tunnel]
            interface   = "{tunnel}"
            private_key = "{gatewayKeys.PrivateKey}"
            listen_port = {ListenPort}
            address     = "10.99.0.1/16"
            address6    = "fd99::1/64"

            [nat]
            public_interface  = "eth0"
            public_addresses  = ["198.51.100.10"]
            public_addresses6 = ["{public6}"]

            [store]
            path = "{Path.Combine(directory, "store", "portcullis.db")}"

            [[peer]]
            name       = "a"
            public_key = "{clientKeys.PublicKey}"
            address    = "10.99.0.2"
            """);
        await GatewayDaemon.StartAsync(gateway, configPath);

        // The key public IPv6 address . udp . WireGuard port, leased and mapped to the peer's IPv6 tunnel address.
        await gateway.RunCheckedAsync("nft", "add", "element", "ip6", "portcullis", "leases", $"{{ {public6} . udp . {ListenPort} timeout 1h }}");
        await gateway.RunCheckedAsync("nft", "add", "element", "ip6", "portcullis", "mappings", $"{{ {public6} . udp . {ListenPort} : fd99::2 . {ListenPort} }}");
        Assert.Contains($"{public6} . udp . {ListenPort} : fd99::2 . {ListenPort}",
            await gateway.RunCheckedAsync("nft", "list", "map", "ip6", "portcullis", "mappings"), StringComparison.Ordinal);

        // StartAsync returns once the gateway's tunnel address answers through the tunnel, which needs the handshake.
        await StockClient.StartAsync(client, clientKeys.PrivateKey, gatewayKeys.PublicKey, $"[{public6}]:{ListenPort}",
            "10.99.0.2/16", "10.99.0.1", TimeSpan.FromSeconds(20), network.Diagnostics);

        // The gateway saw the client at its IPv6 address: the packets reached its own socket, over IPv6.
        var endpoints = await gateway.RunCheckedAsync("wg", "show", tunnel, "endpoints");
        Assert.Contains($"[{client.Address6}]:", endpoints, StringComparison.Ordinal);
    }
}
