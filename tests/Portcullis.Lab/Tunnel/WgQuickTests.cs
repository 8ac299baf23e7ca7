using Portcullis.Lab.Harness;

namespace Portcullis.Lab.Tunnel;

/// <summary>
/// wg-quick with a userspace implementation (DESIGN.md §6): <c>WG_QUICK_USERSPACE_IMPLEMENTATION</c> names one
/// executable that creates the interface and returns. The client is a full tunnel (AllowedIPs 0.0.0.0/0, fwmark
/// policy routing) to a wireguard-go gateway that masquerades onto the remote segment.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class WgQuickTests
{
    [Theory]
    [InlineData(WireGuardImplementation.Ours)]
    [InlineData(WireGuardImplementation.WireGuardGo)]
    public async Task WgQuickUp_UserspaceImplementation_FullTunnelReachesRemoteAndDownCleansUp(WireGuardImplementation implementation)
    {
        await using var network = await LabNetwork.CreateAsync();
        var gateway = await network.AddHostAsync("gateway", LabSegment.Gateway, "198.51.100.10");
        var client = await network.AddHostAsync("client", LabSegment.Home, "203.0.113.21");
        var remote = await network.AddHostAsync("remote", LabSegment.Remote, "192.0.2.100");
        var gatewayKeys = await WgTools.GenerateKeysAsync();
        var clientKeys = await WgTools.GenerateKeysAsync();
        var server = await StartGatewayAsync(gateway, gatewayKeys, clientKeys.PublicKey);

        var interfaceName = network.NewInterfaceName();
        var config = Path.Combine(network.CreateTempDirectory(), interfaceName + ".conf");
        await WgTools.WritePrivateFileAsync(config, $"""
            [Interface]
            PrivateKey = {clientKeys.PrivateKey}
            Address = 10.99.0.2/16

            [Peer]
            PublicKey = {gatewayKeys.PublicKey}
            Endpoint = {gateway.Address}:{TunnelLab.ListenPort}
            AllowedIPs = 0.0.0.0/0
            """);
        var environment = WgQuickEnvironment(implementation);

        var up = await client.RunAsync(["wg-quick", "up", config], RunOptions.Default with { Environment = environment, Timeout = TimeSpan.FromSeconds(30) });
        Assert.True(up.Succeeded, $"{up}\n{network.Diagnostics()}");

        var route = await client.RunCheckedAsync("ip", "route", "get", remote.Address!);
        Assert.Contains($"dev {interfaceName}", route, StringComparison.Ordinal);
        Assert.True(await client.PingUntilAsync("10.99.0.1", TimeSpan.FromSeconds(10)), $"gateway's tunnel address\n{network.Diagnostics()}");
        Assert.True(await client.PingAsync(remote.Address!), "remote host through the tunnel");
        var peer = Assert.Single(await server.ShowPeersAsync());
        Assert.StartsWith($"{client.Address}:", peer.Endpoint, StringComparison.Ordinal);

        var down = await client.RunAsync(["wg-quick", "down", config], RunOptions.Default with { Environment = environment, Timeout = TimeSpan.FromSeconds(30) });
        Assert.True(down.Succeeded, down.ToString());
        Assert.False((await client.RunAsync("ip", "link", "show", interfaceName)).Succeeded, "interface still exists");
        Assert.DoesNotContain("51820", await client.RunCheckedAsync("ip", "rule"), StringComparison.Ordinal);

        // wg-quick down only deletes the link: the implementation must notice and exit.
        Assert.True(await NamespaceEmptiesAsync(client, TimeSpan.FromSeconds(5)), $"{implementation} still running after wg-quick down");
    }

    private static Dictionary<string, string> WgQuickEnvironment(WireGuardImplementation implementation)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin";
        if (implementation == WireGuardImplementation.Ours)
            path = LabBinaries.PortcullisDirectory + ":" + path;
        return new Dictionary<string, string>
        {
            ["WG_QUICK_USERSPACE_IMPLEMENTATION"] = implementation.WgQuickImplementation(),
            ["PATH"] = path,
        };
    }

    private static async Task<WireGuardDevice> StartGatewayAsync(LabHost gateway, WireGuardKeys keys, string clientPublicKey)
    {
        var device = await WireGuardDevice.StartAsync(gateway, WireGuardImplementation.WireGuardGo);
        await device.SetConfAsync($"""
            [Interface]
            PrivateKey = {keys.PrivateKey}
            ListenPort = {TunnelLab.ListenPort}

            [Peer]
            PublicKey = {clientPublicKey}
            AllowedIPs = 10.99.0.2/32
            """);
        await device.UpAsync("10.99.0.1/16");
        await gateway.RunCheckedAsync("sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
        await gateway.RunCheckedAsync("nft", "add", "table", "ip", "lab");
        await gateway.RunCheckedAsync("nft", "add", "chain", "ip", "lab", "post", "{ type nat hook postrouting priority 100 ; }");
        await gateway.RunCheckedAsync("nft", "add", "rule", "ip", "lab", "post", "oifname", "eth0", "masquerade");
        return device;
    }

    private static async Task<bool> NamespaceEmptiesAsync(LabHost host, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var pids = await host.Network.Router.RunAsync("ip", "netns", "pids", host.Namespace);
            if (pids.Succeeded && pids.Stdout.Trim().Length == 0)
                return true;
            await Task.Delay(100);
        }

        return false;
    }
}
