using Portcullis.Lab.Harness;
using Portcullis.Lab.Tunnel;

namespace Portcullis.Lab.Client;

/// <summary>
/// `portcullis connect` as a full-tunnel client against a stock wireguard-go gateway: the remote host sees the
/// gateway's address, routing is wg-quick's fwmark policy (no route around the tunnel for unmarked traffic to the
/// gateway: the "Port Fail" defence), DNS is set and restored, and a clean exit removes everything.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class ConnectTests
{
    [Fact]
    public async Task Connect_FullTunnel_RemoteSeesGatewayAddressAndCleanExitRestoresEverything()
    {
        await using var lab = await ClientLab.CreateAsync();
        await lab.StartGatewayAsync(configure: true);
        var client = await lab.ConnectAsync();

        Assert.True(await lab.Client.PingUntilAsync(ClientLab.GatewayInner, TimeSpan.FromSeconds(10)), $"gateway's tunnel address\n{lab.Network.Diagnostics()}");

        // The remote host sees the gateway's public address, never the client's.
        await using (var capture = lab.Remote.Start("tcpdump", "-i", "eth0", "-n", "-l", "icmp"))
        {
            Assert.True(await Wait.UntilAsync(() => Task.FromResult(capture.Output.Contains("listening on", StringComparison.Ordinal)),
                TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(20)), capture.ToString());
            Assert.True(await lab.Client.PingAsync(lab.Remote.Address!, count: 2), $"remote through the tunnel\n{lab.Network.Diagnostics()}");
            // -l prints each packet as it is seen: the request is in the output once tcpdump has it.
            Assert.True(await Wait.UntilAsync(() => Task.FromResult(capture.Output.Contains("ICMP echo request", StringComparison.Ordinal)),
                TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(20)), capture.ToString());
            capture.Terminate();
            await capture.WaitForExitAsync(TimeSpan.FromSeconds(5));
            Assert.Contains($"IP {lab.Gateway.Address} > {lab.Remote.Address}: ICMP echo request", capture.Output, StringComparison.Ordinal);
            Assert.DoesNotContain(lab.Client.Address!, capture.Output, StringComparison.Ordinal);
        }

        // Port Fail: unmarked traffic to the gateway's own address goes through the tunnel; only marked packets leave on eth0.
        Assert.Contains($"dev {lab.Interface}", await lab.Client.RunCheckedAsync("ip", "route", "get", lab.Gateway.Address!), StringComparison.Ordinal);
        Assert.Contains("dev eth0", await lab.Client.RunCheckedAsync("ip", "route", "get", lab.Gateway.Address!, "mark", "51820"), StringComparison.Ordinal);
        Assert.DoesNotContain(lab.Gateway.Address!, await lab.Client.RunCheckedAsync("ip", "route", "show", "table", "all"), StringComparison.Ordinal);
        var rules = await lab.Client.RunCheckedAsync("ip", "rule");
        Assert.Contains("not from all fwmark 0xca6c lookup 51820", rules, StringComparison.Ordinal);
        Assert.Contains("from all lookup main suppress_prefixlength 0", rules, StringComparison.Ordinal);
        Assert.Contains("not from all fwmark 0xca6c lookup 51820", await lab.Client.RunCheckedAsync("ip", "-6", "rule"), StringComparison.Ordinal);
        Assert.Contains($"dev {lab.Interface}", await lab.Client.RunCheckedAsync("ip", "-6", "route", "get", "2001:db8:3::64"), StringComparison.Ordinal);
        Assert.Equal("1", (await lab.Client.RunCheckedAsync("sysctl", "-n", "net.ipv4.conf.all.src_valid_mark")).Trim());
        Assert.Contains("fib saddr type != local drop", await lab.Client.RunCheckedAsync("nft", "list", "table", "inet", $"portcullis_tunnel_{lab.Interface}"), StringComparison.Ordinal);
        Assert.Contains("mtu 1420", await lab.Client.RunCheckedAsync("ip", "link", "show", lab.Interface), StringComparison.Ordinal);

        // DNS: set inside the namespace (the bind-mounted per-namespace file), the original saved.
        Assert.Contains("nameserver 10.99.0.1", await lab.Client.RunCheckedAsync("cat", "/etc/resolv.conf"), StringComparison.Ordinal);

        // wg show works on our interface; status reports the handshake.
        Assert.Contains("latest handshake", await lab.Client.RunCheckedAsync("wg", "show", lab.Interface), StringComparison.Ordinal);
        var status = await lab.PortcullisAsync("status", "--interface", lab.Interface);
        Assert.True(status.Succeeded, status.ToString());
        Assert.Contains("tunnel: up", status.Stdout, StringComparison.Ordinal);
        Assert.Matches(@"latest handshake: \d{4}-", status.Stdout);
        Assert.Contains("kill switch: off", status.Stdout, StringComparison.Ordinal);

        client.Terminate();
        Assert.True(await client.WaitForExitAsync(TimeSpan.FromSeconds(15)), client.Output);
        Assert.Equal(0, client.ExitCode);
        Assert.False((await lab.Client.RunAsync("ip", "link", "show", lab.Interface)).Succeeded, "interface still exists");
        Assert.DoesNotContain("51820", await lab.Client.RunCheckedAsync("ip", "rule"), StringComparison.Ordinal);
        Assert.DoesNotContain("51820", await lab.Client.RunCheckedAsync("ip", "-6", "rule"), StringComparison.Ordinal);
        Assert.Equal(string.Empty, (await lab.Client.RunCheckedAsync("nft", "list", "tables")).Trim());
        Assert.Equal(ClientLab.OriginalResolvConf, await lab.Client.RunCheckedAsync("cat", "/etc/resolv.conf"));
        Assert.False(File.Exists($"/run/portcullis/{lab.Interface}.state"), "state file left behind");
        Assert.True(await lab.Client.PingAsync(lab.Remote.Address!), "remote directly once disconnected");
    }

    [Fact]
    public async Task Disconnect_RunningClient_StopsItAndRemovesEverything()
    {
        await using var lab = await ClientLab.CreateAsync();
        await lab.StartGatewayAsync(configure: true);
        var client = await lab.ConnectAsync("--kill-switch");
        Assert.True(await lab.Client.PingUntilAsync(lab.Remote.Address!, TimeSpan.FromSeconds(10)), lab.Network.Diagnostics());

        var disconnect = await lab.PortcullisAsync("disconnect", "--interface", lab.Interface);
        Assert.True(disconnect.Succeeded, disconnect.ToString());
        Assert.Contains("stopped the client", disconnect.Stdout, StringComparison.Ordinal);
        Assert.True(await client.WaitForExitAsync(TimeSpan.FromSeconds(5)), client.Output);
        Assert.False(await lab.KillSwitchPresentAsync());
        Assert.False((await lab.Client.RunAsync("ip", "link", "show", lab.Interface)).Succeeded, "interface still exists");
        Assert.DoesNotContain("51820", await lab.Client.RunCheckedAsync("ip", "rule"), StringComparison.Ordinal);
        Assert.Equal(ClientLab.OriginalResolvConf, await lab.Client.RunCheckedAsync("cat", "/etc/resolv.conf"));
        Assert.Contains("no client connected", (await lab.PortcullisAsync("status", "--interface", lab.Interface)).Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connect_BadForwardSpec_RefusedClearlyAndNothingChanged()
    {
        // (--forward itself works now: tests/Portcullis.Lab/PortKeeper.) A malformed request changes nothing at all.
        await using var lab = await ClientLab.CreateAsync();
        (string[] Arguments, string Message)[] cases =
        [
            (["--forward", "sctp:8080"], "portcullis connect: --forward"),
            (["--forward", "tcp:8080", "--allow-from", "192.0.2.7/24"],
                "--allow-from '192.0.2.7/24': bits are set past the prefix length; did you mean 192.0.2.0/24?"),
            (["--forward", "tcp", "--allow-from", "192.0.2.0/24"], "--allow-from needs --forward with an internal port"),
            (["--forward", "tcp", "--qbittorrent", "ftp://127.0.0.1:8080"], "portcullis connect: --qbittorrent 'ftp://127.0.0.1:8080' is not an http"),
            (["--qbittorrent", "http://127.0.0.1:8080"], "--qbittorrent and --transmission only make sense with --forward"),
            (["--forward", "tcp", "--transmission", "http://127.0.0.1:9091/transmission/rpc", "--transmission-password-file", "/etc/hostname"],
                "--transmission-password-file needs --transmission-user"),
            (["--forward", "tcp", "--qbittorrent", "http://127.0.0.1:8080", "--qbittorrent-user", "admin", "--qbittorrent-password-file", "/nonexistent/pw"],
                "--qbittorrent-password-file '/nonexistent/pw' does not exist"),
        ];
        foreach (var (arguments, message) in cases)
        {
            var result = await lab.PortcullisAsync(["connect", "--config", lab.ConfigPath, "--kill-switch", .. arguments]);
            Assert.Equal(2, result.ExitCode);
            Assert.Contains(message, result.Stderr, StringComparison.Ordinal);
            Assert.False(await lab.KillSwitchPresentAsync());
            Assert.False((await lab.Client.RunAsync("ip", "link", "show", lab.Interface)).Succeeded);
        }
    }

    [Fact]
    public async Task Connect_HookInConfig_RefusedNamingLine()
    {
        await using var lab = await ClientLab.CreateAsync();
        var text = await File.ReadAllTextAsync(lab.ConfigPath);
        await File.WriteAllTextAsync(lab.ConfigPath, text.Replace("DNS = 10.99.0.1", "PostUp = touch /tmp/pwned", StringComparison.Ordinal));
        var result = await lab.PortcullisAsync("connect", "--config", lab.ConfigPath);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"{lab.ConfigPath}:4: PostUp: refused", result.Stderr, StringComparison.Ordinal);
    }
}
