using Portcullis.Lab.Admin;
using Portcullis.Lab.Gateway;
using Portcullis.Lab.Harness;
using Portcullis.Lab.Tunnel;

namespace Portcullis.Lab.Ipv6;

/// <summary>
/// Our client's port keeper maps over IPv6 too where the gateway offers it (issue 15): <c>portcullis connect --forward
/// tcp:8080 --port-file6 FILE --kill-switch</c> against our gateway keeps a PCP mapping at the gateway's IPv6 tunnel address beside
/// the IPv4 one, writes the answer as <c>[ADDRESS]:PORT</c> and logs it; a stock <c>nc</c> on the internet reaches a
/// stock <c>nc -6 -l</c> on the client there — the public IPv6 address and a chosen port with NAT66, the client's own
/// /128 and port with a routed prefix.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class Ipv6PortKeeperTests
{
    private const string RoutedPrefix = "2001:db8:99::/64";
    private const string PublicAddress6 = "2001:db8:1::a"; // the lab gateway's address on its segment
    private const int Port = 8080;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Connect_Forward_KeepsAnIpv6MappingToo_RemoteReachesTheServiceAtTheAddressInPortFile6(bool routed)
    {
        await using var lab = routed
            ? await AdminLab.StartAsync($"routed_prefix6 = \"{RoutedPrefix}\"")
            : await AdminLab.StartAsync("address6 = \"fd99::1/64\"", natKeys: $"public_addresses6 = [\"{PublicAddress6}\"]");
        Assert.Equal(PublicAddress6, lab.Gateway.Address6);
        if (routed)
            await lab.Network.Router.RunCheckedAsync("ip", "-6", "route", "add", RoutedPrefix, "via", PublicAddress6);
        var added = await lab.CliAsync("peer", "add", "laptop");
        Assert.True(added.Succeeded, added.ToString());
        await WgTools.WritePrivateFileAsync(lab.ClientConfig, added.Stdout);
        await using var service = await Nc6.ListenAsync(lab.Client, Port);
        var portFile6 = Path.Combine(lab.Directory, "port6");

        // With the kill switch: the forwarded port is open on the tunnel for IPv6 as for IPv4.
        await using var client = await lab.ConnectAsync("--kill-switch", "--forward", "tcp:8080", "--port-file6", portFile6);

        Assert.True(await AdminLab.WaitAsync(() => Task.FromResult(File.Exists(portFile6)), TimeSpan.FromSeconds(30)),
            $"no IPv6 port file\n{client}\n{lab.Diagnostics()}");
        var written = File.ReadAllText(portFile6);
        var (address, port) = Parse(written);
        if (routed)
        {
            Assert.Equal("2001:db8:99::2", address);
            Assert.Equal(Port, port);
        }
        else
        {
            Assert.Equal(PublicAddress6, address);
            Assert.InRange(port, 20000, 59999);
        }
        // The client logs before it writes the file, but its output reaches us through a pipe: wait for the line.
        var logged = $"IPv6: [{address}]:{port}/tcp forwarded to local port {Port}";
        Assert.True(await AdminLab.WaitAsync(() => Task.FromResult(client.Output.Contains(logged, StringComparison.Ordinal)), TimeSpan.FromSeconds(10)),
            $"not logged: {logged}\n{client}");
        await Nc6.SendAsync(lab.Remote, address, port, "hello-over-ipv6", service, lab.Diagnostics);
    }

    [Fact]
    public async Task GatewayRestart_Ipv6KeeperHearsTheGatewaysAnnouncementAndMapsAgain()
    {
        await using var lab = await AdminLab.StartAsync("address6 = \"fd99::1/64\"", natKeys: $"public_addresses6 = [\"{PublicAddress6}\"]");
        var added = await lab.CliAsync("peer", "add", "laptop");
        Assert.True(added.Succeeded, added.ToString());
        await WgTools.WritePrivateFileAsync(lab.ClientConfig, added.Stdout);
        await using var service = await Nc6.ListenAsync(lab.Client, Port);
        var portFile6 = Path.Combine(lab.Directory, "port6");
        await using var client = await lab.ConnectAsync("--kill-switch", "--forward", "tcp:8080", "--port-file6", portFile6);
        Assert.True(await AdminLab.WaitAsync(() => Task.FromResult(File.Exists(portFile6)), TimeSpan.FromSeconds(30)),
            $"no IPv6 port file\n{client}\n{lab.Diagnostics()}");

        // A crash: the restarted gateway has flushed its maps, calls the client back at its remembered endpoint, and the
        // new session makes it announce itself — over IPv4 to the IPv4 keeper and over IPv6 to the IPv6 one, which
        // then maps again at once (before, it noticed only at its next epoch probe, up to 15 s later).
        await GatewayDaemon.KillAsync(lab.GatewayProcess);
        await lab.StartGatewayAsync();

        const string Heard = "portcullis.portkeeper6[5104] The gateway lost its mapping state (the gateway announced itself)";
        Assert.True(await AdminLab.WaitAsync(() => Task.FromResult(client.Output.Contains(Heard, StringComparison.Ordinal)), TimeSpan.FromSeconds(30)),
            $"the IPv6 keeper heard no announcement\n{client}\n{lab.Diagnostics()}");
        string? element = null;
        Assert.True(await AdminLab.WaitAsync(async () =>
        {
            var (address, port) = Parse(File.ReadAllText(portFile6));
            element = $"{address} . tcp . {port} : fd99::2 . {Port}";
            return (await lab.Gateway.RunCheckedAsync("nft", "list", "ruleset")).Contains(element, StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(30)), $"not mapped again over IPv6 ({element})\n{client}\n{lab.Diagnostics()}");
        var (again, againPort) = Parse(File.ReadAllText(portFile6));
        await Nc6.SendAsync(lab.Remote, again, againPort, "hello-after-restart", service, lab.Diagnostics);
    }

    private static (string Address, int Port) Parse(string text)
    {
        var line = text.Trim();
        var close = line.LastIndexOf("]:", StringComparison.Ordinal);
        Assert.True(line.StartsWith('[') && close > 0, $"'{line}' is not [ADDRESS]:PORT");
        return (line[1..close], int.Parse(line[(close + 2)..], System.Globalization.CultureInfo.InvariantCulture));
    }
}
