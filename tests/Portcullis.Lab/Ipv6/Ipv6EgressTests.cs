using System.Globalization;
using Portcullis.Lab.Harness;
using Portcullis.Lab.Tunnel;

namespace Portcullis.Lab.Ipv6;

/// <summary>
/// A stock client's IPv6 through the gateway (issue 15): with NAT66 the internet sees the gateway's public IPv6
/// address, with a routed prefix the peer's own /128; nothing unsolicited reaches a peer, and peers do not reach each
/// other. Each host answers a TCP connection with "NAME from SOURCE", so a test sees who answered and whom it saw.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class Ipv6EgressTests
{
    private const int Port = 8080;

    private const string Listener = """
        import socket, sys
        port, name = int(sys.argv[1]), sys.argv[2]
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(('::', port))
        s.listen(16)
        print('listening', flush=True)
        while True:
            c, a = s.accept()
            c.sendall(f'{name} from {a[0]}\n'.encode())
            c.close()
        """;

    private const string Probe = """
        import socket, sys
        host, port, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
        try:
            c = socket.create_connection((host, port), timeout=timeout)
            c.settimeout(timeout)
            print(c.recv(256).decode().strip())
        except OSError as e:
            print(f'no answer: {e}')
            sys.exit(1)
        """;

    [Fact]
    public async Task StockClient_Nat66_ReachesIpv6RemoteFromThePublicIpv6Address_PeersIsolated()
    {
        await using var lab = await Ipv6Lab.StartAsync(routed: false);
        await using var remote = await ListenAsync(lab.Remote);
        await using var serviceB = await ListenAsync(lab.ClientB);

        // The route a stock client takes to the remote host is the tunnel (not the home LAN's IPv6).
        Assert.Contains("dev pc", await lab.ClientA.RunCheckedAsync("ip", "-6", "route", "get", lab.Remote.Address6!), StringComparison.Ordinal);
        Assert.Equal($"remote from {lab.PublicAddress6}", await AskAsync(lab.ClientA, lab.Remote.Address6!));
        Assert.Equal($"remote from {lab.PublicAddress6}", await AskAsync(lab.ClientB, lab.Remote.Address6!));
        Assert.True(await lab.ClientA.PingAsync(lab.Remote.Address6!), $"ping -6 to the remote host\n{lab.Diagnostics()}");

        // B's service answers B itself (the probe works), but neither A through the tunnel nor the internet.
        Assert.Equal($"clientb from {lab.AddressB6}", await AskAsync(lab.ClientB, lab.AddressB6));
        Assert.Null(await AskAsync(lab.ClientA, lab.AddressB6));
        Assert.False(await lab.ClientA.PingAsync(lab.AddressB6), "A pinged B's IPv6 tunnel address");
        Assert.Null(await AskAsync(lab.Remote, lab.PublicAddress6));
        // Even told the way (a route to the ULA prefix via the gateway), the internet does not reach a peer.
        await lab.Network.Router.RunCheckedAsync("ip", "-6", "route", "add", "fd99::/64", "via", lab.PublicAddress6);
        Assert.Null(await AskAsync(lab.Remote, lab.AddressB6));

        var ruleset = await lab.Gateway.RunCheckedAsync("nft", "list", "table", "ip6", "portcullis");
        Assert.Contains($"snat to {lab.PublicAddress6}", ruleset, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StockClient_RoutedPrefix_ReachesIpv6RemoteFromItsOwnAddress_UnsolicitedInboundDropped()
    {
        await using var lab = await Ipv6Lab.StartAsync(routed: true);
        await using var remote = await ListenAsync(lab.Remote);
        await using var serviceA = await ListenAsync(lab.ClientA);

        Assert.Equal($"remote from {lab.AddressA6}", await AskAsync(lab.ClientA, lab.Remote.Address6!));
        Assert.Equal($"remote from {lab.AddressB6}", await AskAsync(lab.ClientB, lab.Remote.Address6!));

        // The prefix is routed to the gateway, yet a connection nobody asked for does not reach A, nor does a ping;
        // the gateway's own tunnel address is closed to the internet too. A's service itself answers (A asks it).
        Assert.Equal($"clienta from {lab.AddressA6}", await AskAsync(lab.ClientA, lab.AddressA6));
        Assert.Null(await AskAsync(lab.Remote, lab.AddressA6));
        Assert.False(await lab.Remote.PingAsync(lab.AddressA6), "the internet pinged A's routed address");
        Assert.False(await lab.Remote.PingAsync(lab.GatewayTunnelAddress6), "the internet pinged the gateway's tunnel address");
        // Peer isolation holds for IPv6.
        Assert.Null(await AskAsync(lab.ClientB, lab.AddressA6));

        var ruleset = await lab.Gateway.RunCheckedAsync("nft", "list", "table", "ip6", "portcullis");
        Assert.DoesNotContain("snat", ruleset, StringComparison.Ordinal);
    }

    internal static async Task<LabProcess> ListenAsync(LabHost host)
    {
        var listener = host.Start("python3", "-c", Listener, Port.ToString(CultureInfo.InvariantCulture), host.Name);
        await Wait.ForStartAsync(listener, $"{host.Name}'s IPv6 listener",
            () => Task.FromResult(listener.Output.Contains("listening", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(15), TimeSpan.FromMilliseconds(50), "did not listen");
        return listener;
    }

    // "NAME from SOURCE", or null when nothing answered within 2 s (the drop is silent: a timeout, never a refusal).
    internal static async Task<string?> AskAsync(LabHost from, string address)
    {
        var result = await from.RunAsync(["python3", "-c", Probe, address, Port.ToString(CultureInfo.InvariantCulture), "2"],
            RunOptions.Default with { Timeout = TimeSpan.FromSeconds(12) });
        return result.Succeeded ? result.Stdout.Trim() : null;
    }
}
