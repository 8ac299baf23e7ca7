using System.Globalization;
using Portcullis.Lab.Admin;
using Portcullis.Lab.Harness;
using Portcullis.Lab.Tunnel;

namespace Portcullis.Lab.Ipv6;

/// <summary>
/// Our own client, dual-stack, against our gateway with a routed IPv6 prefix (2001:db8:99::/64, routed to the gateway
/// by the lab's router): the config <c>portcullis peer add</c> prints carries the peer's /128, <c>portcullis connect
/// --kill-switch</c> carries IPv6 through the tunnel, and with the tunnel's IPv6 route gone the kill switch holds:
/// no IPv6 packet to the remote host leaves on the physical link at any point.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class Ipv6ClientTests
{
    private const int Port = 8080;
    private const string RoutedPrefix = "2001:db8:99::/64";

    private const string Listener = """
        import socket, sys
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(('::', int(sys.argv[1])))
        s.listen(16)
        print('listening', flush=True)
        while True:
            c, a = s.accept()
            c.sendall(f'remote from {a[0]}\n'.encode())
            c.close()
        """;

    private const string Probe = """
        import socket, sys
        try:
            c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)
            c.settimeout(2)
            print(c.recv(256).decode().strip())
        except OSError as e:
            print(f'no answer: {e}')
            sys.exit(1)
        """;

    [Fact]
    public async Task Connect_DualStackWithKillSwitch_Ipv6ThroughTheTunnelFromTheRoutedAddress_NeverBesideIt()
    {
        await using var lab = await AdminLab.StartAsync($"routed_prefix6 = \"{RoutedPrefix}\"");
        await lab.Network.Router.RunCheckedAsync("ip", "-6", "route", "add", RoutedPrefix, "via", lab.Gateway.Address6!);
        var added = await lab.CliAsync("peer", "add", "laptop");
        Assert.True(added.Succeeded, added.ToString());
        Assert.Contains("Address = 10.99.0.2/16, 2001:db8:99::2/128\n", added.Stdout, StringComparison.Ordinal);
        Assert.Contains("AllowedIPs = 0.0.0.0/0, ::/0\n", added.Stdout, StringComparison.Ordinal);
        await WgTools.WritePrivateFileAsync(lab.ClientConfig, added.Stdout);
        var laptop = Assert.Single((await lab.CliJsonAsync("peer", "list")).EnumerateArray());
        Assert.Equal("2001:db8:99::2", laptop.GetProperty("tunnel_address6").GetString());
        var remote6 = lab.Remote.Address6!;
        await using var listener = lab.Remote.Start("python3", "-c", Listener, Port.ToString(CultureInfo.InvariantCulture));
        await Wait.ForStartAsync(listener, "the remote IPv6 listener", () => Task.FromResult(listener.Output.Contains("listening", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(15), TimeSpan.FromMilliseconds(50), "did not listen");

        await using var client = await lab.ConnectAsync("--kill-switch");
        var pcap = Path.Combine(lab.Directory, "client-eth0-ip6.pcap");
        await using (var capture = lab.Client.Start("tcpdump", "-i", "eth0", "-Q", "out", "-n", "-U", "-w", pcap, $"ip6 and dst host {remote6}"))
        {
            Assert.True(await Wait.UntilAsync(() => Task.FromResult(capture.Output.Contains("listening on", StringComparison.Ordinal)),
                TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(50)), capture.ToString());

            string? answer = null;
            Assert.True(await Wait.UntilAsync(async () => (answer = await AskAsync(lab.Client, remote6)) is not null,
                TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(200)), $"IPv6 never reached the remote host\n{lab.Diagnostics()}");
            Assert.Equal("remote from 2001:db8:99::2", answer);

            // The tunnel's IPv6 default route goes (an interface flap, a tool flushing routes): IPv6 now takes the home
            // LAN's default route, and the kill switch must drop it there.
            await lab.Client.RunCheckedAsync("ip", "-6", "route", "flush", "table", "51820");
            Assert.Contains("dev eth0", await lab.Client.RunCheckedAsync("ip", "-6", "route", "get", remote6), StringComparison.Ordinal);
            Assert.Null(await AskAsync(lab.Client, remote6));
            Assert.False((await lab.Client.RunAsync("ping", "-6", "-n", "-q", "-c", "1", "-W", "1", remote6)).Succeeded, "ping -6 beside the tunnel");

            capture.Terminate();
            Assert.True(await capture.WaitForExitAsync(TimeSpan.FromSeconds(5)));
        }
        var leaks = (await lab.Client.RunCheckedAsync("tcpdump", "-r", pcap, "-n")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(leaks.Length == 0, $"{leaks.Length} IPv6 packet(s) to the remote host beside the tunnel:\n{string.Join('\n', leaks.Take(20))}");
    }

    private static async Task<string?> AskAsync(LabHost from, string address)
    {
        var result = await from.RunAsync(["python3", "-c", Probe, address, Port.ToString(CultureInfo.InvariantCulture)],
            RunOptions.Default with { Timeout = TimeSpan.FromSeconds(12) });
        return result.Succeeded ? result.Stdout.Trim() : null;
    }
}
