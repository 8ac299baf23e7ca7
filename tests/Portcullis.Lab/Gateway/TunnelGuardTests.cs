using System.Globalization;
using Portcullis.Lab.Harness;
using Portcullis.Lab.Tunnel;
using static Portcullis.Lab.Gateway.GatewayLab;

namespace Portcullis.Lab.Gateway;

/// <summary>
/// The gateway trusts a tunnel source only from the tunnel, and the tunnel reaches only what it should: the gateway lab
/// plus a management LAN on a second interface of the gateway (mgmt0 172.31.0.1, a host at .50), with reverse-path
/// filtering off in the gateway and the router, so the gateway's own table is what holds. Stock wireguard-go clients.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class TunnelGuardTests
{
    private const string ManagementAddress = "172.31.0.1";
    private const string ManagementHostAddress = "172.31.0.50";
    private const string Metadata = "169.254.169.254";
    private const string PrivateService = "192.168.50.1";

    [Fact]
    public async Task SpoofedTunnelSource_FromManagementLanAndFromTheInternet_MapsNothingAndReachesNoPeer()
    {
        await using var lab = await GatewayLab.StartAsync();
        var management = await AddManagementLanAsync(lab);
        await management.RunCheckedAsync("ip", "address", "add", $"{AddressA}/32", "dev", "eth0"); // claims to be A
        await management.RunCheckedAsync("ip", "route", "add", "10.99.0.0/16", "via", ManagementAddress);

        // 1. NAT-PMP "map A's TCP port 22", from the management LAN in A's name (libnatpmp would wait for an answer to
        //    its public-address request first, which goes to A, so the request is sent raw, three times).
        await management.RunCheckedAsync("python3", "-c", SpoofedNatPmp, AddressA, GatewayTunnelAddress);
        // The server reads datagrams in order: once A's own request (through the tunnel) is mapped, the spoofed ones
        // were read before it.
        var port = await NatPmpClient.MapCheckedAsync(lab.ClientA, "tcp", 8080);
        var ruleset = await lab.RulesetAsync();
        Assert.Contains(Element(port, AddressA, 8080), ruleset, StringComparison.Ordinal);
        Assert.DoesNotContain($": {AddressA} . 22", ruleset, StringComparison.Ordinal);

        // 2. From the internet, in A's name, to B's forwarded port: B must not see it (nor answer A through the tunnel).
        await using var listener = lab.ClientB.Start("python3", "-c", Recorder, "9090");
        await Wait.ForStartAsync(listener, "B's UDP recorder", () => Task.FromResult(listener.Output.Contains("listening", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(15), TimeSpan.FromMilliseconds(50), "did not listen");
        var portB = await NatPmpClient.MapCheckedAsync(lab.ClientB, "udp", 9090);
        await lab.Remote.RunCheckedAsync("ip", "address", "add", $"{AddressA}/32", "dev", "eth0");
        await Send(lab.Remote, AddressA, PublicAddress, portB, "spoofed");
        await Send(lab.Remote, lab.Remote.Address!, PublicAddress, portB, "honest");
        Assert.True(await Wait.UntilAsync(() => Task.FromResult(listener.Output.Contains("honest from 192.0.2.100", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(15), TimeSpan.FromMilliseconds(100)), $"the honest datagram never reached B\n{lab.Diagnostics()}");
        Assert.DoesNotContain("spoofed", listener.Output, StringComparison.Ordinal);

        // 3. The server does not lean on the table alone: with the guard chain emptied (a host firewall tool gone
        //    wrong), a spoofed request reaches its socket on the wrong interface and is still not heard.
        await lab.Gateway.RunCheckedAsync("nft", "flush", "chain", "ip", "portcullis", "guard");
        await management.RunCheckedAsync("python3", "-c", SpoofedNatPmp, AddressA, GatewayTunnelAddress);
        var second = await NatPmpClient.MapCheckedAsync(lab.ClientA, "tcp", 8081);
        ruleset = await lab.RulesetAsync();
        Assert.Contains(Element(second, AddressA, 8081), ruleset, StringComparison.Ordinal);
        Assert.DoesNotContain($": {AddressA} . 22", ruleset, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Peer_GatewayServicesMetadataAndPrivateNetworks_Unreachable_InternetAndPortMappingStillServed()
    {
        await using var lab = await GatewayLab.StartAsync();
        var management = await AddManagementLanAsync(lab);
        // A service of the gateway host on every address (as sshd binds), which its management LAN uses.
        await using var service = await Probes.ListenAsync(lab.Gateway, "tcp", 2222);
        Assert.Equal($"gateway from {ManagementHostAddress}", await Probes.AskAsync(management, "tcp", ManagementAddress, 2222));
        // Behind the public interface: a metadata service and a private network (here: addresses of the router).
        await lab.Network.Router.RunCheckedAsync("ip", "address", "add", $"{Metadata}/32", "dev", LabSegment.Gateway.Bridge);
        await lab.Network.Router.RunCheckedAsync("ip", "address", "add", $"{PrivateService}/32", "dev", LabSegment.Gateway.Bridge);
        await using var metadata = await Probes.ListenAsync(lab.Network.Router, "tcp", 80);
        Assert.Equal($"router from {PublicAddress}", await Probes.AskAsync(lab.Gateway, "tcp", Metadata, 80)); // the host itself may

        Assert.Null(await Probes.AskAsync(lab.ClientA, "tcp", ManagementAddress, 2222));
        Assert.Null(await Probes.AskAsync(lab.ClientA, "tcp", PublicAddress, 2222));
        Assert.Null(await Probes.AskAsync(lab.ClientA, "tcp", GatewayTunnelAddress, 2222));
        Assert.Null(await Probes.AskAsync(lab.ClientA, "tcp", Metadata, 80));
        Assert.Null(await Probes.AskAsync(lab.ClientA, "tcp", PrivateService, 80));

        // What the gateway serves the tunnel, and the internet, still work.
        Assert.True(await lab.ClientA.PingAsync(GatewayTunnelAddress), "ping of the tunnel address");
        await NatPmpClient.MapCheckedAsync(lab.ClientA, "tcp", 8080);
        await using var remote = await Probes.ListenAsync(lab.Remote, "tcp", 9000);
        Assert.Equal($"remote from {PublicAddress}", await Probes.AskAsync(lab.ClientA, "tcp", "192.0.2.100", 9000));
    }

    /// <summary>The management LAN, and reverse-path filtering off where a spoofed packet passes (gateway, router).</summary>
    private static async Task<LabHost> AddManagementLanAsync(GatewayLab lab)
    {
        var management = await lab.Network.AddLinkedHostAsync("mgmt", lab.Gateway, "mgmt0", ManagementAddress, ManagementHostAddress);
        foreach (var host in new[] { lab.Gateway, lab.Network.Router })
        {
            await host.RunCheckedAsync("sysctl", "-q", "-w", "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0");
        }
        await lab.Gateway.RunCheckedAsync("sysctl", "-q", "-w", "net.ipv4.conf.eth0.rp_filter=0", "net.ipv4.conf.mgmt0.rp_filter=0");
        return management;
    }

    private static async Task Send(LabHost from, string source, string address, int port, string text) =>
        await from.RunCheckedAsync("python3", "-c", SendFrom, source, address, port.ToString(CultureInfo.InvariantCulture), text);

    /// <summary>NAT-PMP (RFC 6886) map request, TCP, internal port 22, any public port, one hour; from a chosen source.</summary>
    private const string SpoofedNatPmp = """
        import socket, struct, sys
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((sys.argv[1], 0))
        for _ in range(3):
            s.sendto(struct.pack('!BBHHHI', 0, 2, 0, 22, 0, 3600), (sys.argv[2], 5351))
        """;

    private const string SendFrom = """
        import socket, sys
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((sys.argv[1], 0))
        s.sendto(sys.argv[4].encode(), (sys.argv[2], int(sys.argv[3])))
        """;

    /// <summary>Prints "TEXT from SOURCE" for every datagram to the port, and answers it (as a service would).</summary>
    private const string Recorder = """
        import socket, sys
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(('0.0.0.0', int(sys.argv[1])))
        print('listening', flush=True)
        while True:
            d, a = s.recvfrom(2048)
            print(f'{d.decode()} from {a[0]}', flush=True)
            s.sendto(b'answer', a)
        """;
}
