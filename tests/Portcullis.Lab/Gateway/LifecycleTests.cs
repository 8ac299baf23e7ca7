using Portcullis.Lab.Harness;
using Portcullis.Lab.Tunnel;
using static Portcullis.Lab.Gateway.GatewayLab;

namespace Portcullis.Lab.Gateway;

/// <summary>Mappings live no longer than their owner's session, survive no crash, and bad config fails loudly.</summary>
[Collection(LabCollection.Name)]
public sealed class LifecycleTests
{
    [Fact]
    public async Task LeaseExpiry_ShortLifetimeNotRefreshed_MappingRemoved()
    {
        await using var lab = await GatewayLab.StartAsync(new GatewayLabOptions { MinLifetimeSeconds = 2 });
        var port = await NatPmpClient.MapCheckedAsync(lab.ClientA, "tcp", 8080, lifetime: 3);
        var element = Element(port, AddressA, 8080);
        Assert.Contains(element, await lab.RulesetAsync(), StringComparison.Ordinal);

        Assert.True(await lab.WaitForRulesetAsync(r => !r.Contains(element, StringComparison.Ordinal), TimeSpan.FromSeconds(15)),
            $"the lease did not lapse\n{lab.Diagnostics()}");
    }

    [Fact]
    public async Task SessionEnd_ClientDropsTheGateway_MappingRemovedAndQuickReconnectGetsSamePort()
    {
        await using var lab = await GatewayLab.StartAsync(new GatewayLabOptions { SessionTimeoutSeconds = 8 });
        await Probes.ListenAsync(lab.ClientA, "tcp", 8080);
        var port = await NatPmpClient.MapCheckedAsync(lab.ClientA, "tcp", 8080);
        var element = Element(port, AddressA, 8080);
        Assert.Contains(element, await lab.RulesetAsync(), StringComparison.Ordinal);

        await lab.TunnelA.SetAsync("peer", lab.GatewayKeys.PublicKey, "remove");

        Assert.True(await lab.WaitForRulesetAsync(r => !r.Contains(element, StringComparison.Ordinal), TimeSpan.FromSeconds(30)),
            $"the mapping outlived A's session\n{lab.Diagnostics()}");
        Assert.Null(await Probes.AskAsync(lab.Remote, "tcp", PublicAddress, port));

        // Back within the reconnect grace: the same request gets the same port, and it works again.
        await lab.ReconnectAsync(lab.TunnelA);
        Assert.Equal(port, await NatPmpClient.MapCheckedAsync(lab.ClientA, "tcp", 8080));
        Assert.Equal("clienta from 192.0.2.100", await Probes.AskAsync(lab.Remote, "tcp", PublicAddress, port));
    }

    [Fact]
    public async Task GatewayKilled_Restarted_NoElementPointsAtATunnelAddressWithoutLiveOwner()
    {
        await using var lab = await GatewayLab.StartAsync();
        var portA = await NatPmpClient.MapCheckedAsync(lab.ClientA, "tcp", 8080);
        var portB = await NatPmpClient.MapCheckedAsync(lab.ClientB, "udp", 9090);
        await lab.WaitForRememberedAsync(lab.PublicKeyA);

        await lab.KillGatewayAsync();
        var afterCrash = await lab.RulesetAsync();
        Assert.Contains(Element(portA, AddressA, 8080), afterCrash, StringComparison.Ordinal); // the crash left them
        Assert.Contains(Element(portB, AddressB, 9090), afterCrash, StringComparison.Ordinal);

        // A listens for the restarted gateway's word before it comes back.
        var announcements = lab.ClientA.Start("python3", "-c", AnnouncementListener);
        var ready = DateTime.UtcNow + TimeSpan.FromSeconds(15); // python starts slowly on a loaded machine
        while (!announcements.Output.Contains("listening", StringComparison.Ordinal) && DateTime.UtcNow < ready)
            await Task.Delay(50);
        Assert.Contains("listening", announcements.Output, StringComparison.Ordinal);

        await lab.StartGatewayAsync();

        var afterRestart = await lab.RulesetAsync();
        Assert.DoesNotContain($": {AddressA} .", afterRestart, StringComparison.Ordinal);
        Assert.DoesNotContain($": {AddressB} .", afterRestart, StringComparison.Ordinal);
        // And the restarted gateway serves: it calls A back (it remembered A's endpoint), tells it the new epoch by
        // unicast (RFC 6887 ANNOUNCE to port 5350: multicast does not cross the tunnel), and A maps again.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (!announcements.Output.Contains("pcp-announce", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
            await Task.Delay(50);
        Assert.Contains("pcp-announce from 10.99.0.1", announcements.Output, StringComparison.Ordinal);
        await announcements.DisposeAsync();
        var again = await NatPmpClient.MapCheckedAsync(lab.ClientA, "tcp", 8080);
        // A's allocated address survived the restart (the store remembered it).
        Assert.Contains(Element(again, AddressA, 8080), await lab.RulesetAsync(), StringComparison.Ordinal);
    }

    /// <summary>Prints each datagram that reaches UDP 5350: PCP ANNOUNCE answers are version 2, opcode 0x80, 24 bytes.</summary>
    private const string AnnouncementListener = """
        import socket
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("0.0.0.0", 5350))
        s.settimeout(30)
        print("listening", flush=True)
        while True:
            data, (host, port) = s.recvfrom(2048)
            kind = "pcp-announce" if len(data) == 24 and data[0] == 2 and data[1] == 0x80 else "datagram"
            print(f"{kind} from {host}", flush=True)
        """;

    [Fact]
    public async Task Sigterm_RunningGateway_RemovesTableAndInterface()
    {
        await using var lab = await GatewayLab.StartAsync();
        await NatPmpClient.MapCheckedAsync(lab.ClientA, "tcp", 8080);

        lab.GatewayProcess.Terminate();

        Assert.True(await lab.GatewayProcess.WaitForExitAsync(TimeSpan.FromSeconds(10)), lab.Diagnostics());
        Assert.Equal(0, lab.GatewayProcess.ExitCode);
        Assert.DoesNotContain("portcullis", await lab.RulesetAsync(), StringComparison.Ordinal);
        Assert.False((await lab.Gateway.RunAsync("ip", "link", "show", lab.GatewayInterface)).Succeeded, "the TUN is still there");
    }

    [Fact]
    public async Task BadConfig_PortRangeReversed_ExitsTwoNamingFileLineAndKey()
    {
        await using var network = await LabNetwork.CreateAsync();
        var gateway = await network.AddHostAsync("gateway", LabSegment.Gateway, PublicAddress);
        var keys = await WgTools.GenerateKeysAsync();
        var path = Path.Combine(network.CreateTempDirectory(), "gw.toml");
        await WgTools.WritePrivateFileAsync(path, $"""
            [tunnel]
            interface   = "{network.NewInterfaceName()}"
            private_key = "{keys.PrivateKey}"
            address     = "10.99.0.1/16"

            [nat]
            public_interface = "eth0"
            public_addresses = ["{PublicAddress}"]

            [forwarding]
            port_range = "59999-20000"
            """);

        var result = await gateway.RunAsync([LabBinaries.Portcullis, "gateway", "--config", path], RunOptions.Default);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal(
            $"{path}:11: [forwarding] port_range: expected \"LOW-HIGH\" with 1 <= LOW <= HIGH <= 65535",
            result.Stderr.Trim());
        Assert.DoesNotContain(keys.PrivateKey, result.Stdout + result.Stderr, StringComparison.Ordinal);
    }
}
