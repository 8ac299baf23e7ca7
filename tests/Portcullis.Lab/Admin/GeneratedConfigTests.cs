using System.Text.RegularExpressions;
using Portcullis.Lab.Gateway;
using Portcullis.Lab.Harness;
using Portcullis.Lab.Tunnel;

namespace Portcullis.Lab.Admin;

/// <summary>
/// The config `portcullis peer add` prints, in stock wg-quick (issue 10 item 8): it names the [tunnel] dns resolvers,
/// whose queries reach them through the tunnel, and routes IPv6 into the tunnel too, where the gateway drops it
/// (it carries IPv4 only): nothing of the client's leaves on its physical link but the encrypted UDP to the endpoint,
/// while IPv4 reaches the remote host from the gateway's address. The control brings the same config up without
/// <c>::/0</c> (what peer add wrote before) and sees IPv6 reach the remote host around the tunnel.
/// </summary>
[Collection(LabCollection.Name)]
public sealed partial class GeneratedConfigTests
{
    private const int ProbePort = 8000;

    [Fact]
    public async Task PeerAdd_ConfigInStockWgQuick_DnsThroughTheTunnelAndNoIPv6BesideIt()
    {
        // The remote host plays a public resolver: 192.0.2.100 is no private address, so [tunnel] dns takes it.
        await using var lab = await AdminLab.StartAsync("dns = [\"192.0.2.100\"]");
        var added = await lab.CliAsync("peer", "add", "laptop");
        Assert.True(added.Succeeded, added.ToString());
        Assert.Contains("DNS = 192.0.2.100\n", added.Stdout, StringComparison.Ordinal);
        Assert.Contains("AllowedIPs = 0.0.0.0/0, ::/0\n", added.Stdout, StringComparison.Ordinal);
        await WgTools.WritePrivateFileAsync(lab.ClientConfig, added.Stdout);
        await using var tcp = await Probes.ListenAsync(lab.Remote, "tcp", ProbePort);
        await using var resolver = await Probes.ListenAsync(lab.Remote, "udp", 53);
        var wgQuick = await WgQuickAsync(lab);

        await wgQuick.UpAsync();
        Assert.True(await lab.Client.PingUntilAsync(AdminLab.GatewayTunnelAddress, TimeSpan.FromSeconds(20)), $"never reached the gateway\n{lab.Diagnostics()}");
        // wg-quick handed the resolver to the host's resolvconf(8), and it answers from inside the tunnel.
        Assert.Contains("nameserver 192.0.2.100", await File.ReadAllTextAsync(wgQuick.ResolvconfLog), StringComparison.Ordinal);

        var pcap = Path.Combine(lab.Directory, "client-eth0.pcap");
        var remote6 = lab.Remote.Address6!;
        await using (var capture = lab.Client.Start("tcpdump", "-i", "eth0", "-Q", "out", "-n", "-U", "-w", pcap, $"ip or (ip6 and dst host {remote6})"))
        {
            Assert.True(await Wait.UntilAsync(() => Task.FromResult(capture.Output.Contains("listening on", StringComparison.Ordinal)),
                TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(50)), capture.ToString());
            Assert.Equal($"remote from {AdminLab.PublicAddress}", await Probes.AskAsync(lab.Client, "tcp", lab.Remote.Address!, ProbePort));
            Assert.Equal($"remote from {AdminLab.PublicAddress} ping", await Probes.AskAsync(lab.Client, "udp", "192.0.2.100", 53));
            Assert.False(await Ping6Async(lab.Client, remote6), "IPv6 reached the remote host");
            capture.Terminate();
            Assert.True(await capture.WaitForExitAsync(TimeSpan.FromSeconds(5)));
        }
        var packets = (await lab.Client.RunCheckedAsync("tcpdump", "-r", pcap, "-n")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var endpoint = $"{AdminLab.PublicAddress}.51820";
        var allowed = new Regex($@"^\S+ IP {Regex.Escape(lab.Client.Address!)}\.\d+ > {Regex.Escape(endpoint)}: UDP, length \d+$");
        var leaks = packets.Where(p => !allowed.IsMatch(p)).ToList();
        Assert.True(leaks.Count == 0, $"{leaks.Count} packet(s) outside the tunnel:\n{string.Join('\n', leaks.Take(20))}");
        Assert.Contains(packets, p => p.Contains($"> {endpoint}: UDP", StringComparison.Ordinal));
        await wgQuick.DownAsync();

        // Control: the config as peer add wrote it before, IPv4 only: IPv6 leaves beside the tunnel and gets through.
        var text = await File.ReadAllTextAsync(lab.ClientConfig);
        await File.WriteAllTextAsync(lab.ClientConfig, text.Replace("AllowedIPs = 0.0.0.0/0, ::/0", "AllowedIPs = 0.0.0.0/0", StringComparison.Ordinal));
        await wgQuick.UpAsync();
        Assert.True(await lab.Client.PingUntilAsync(AdminLab.GatewayTunnelAddress, TimeSpan.FromSeconds(20)), $"never reached the gateway\n{lab.Diagnostics()}");
        Assert.True(await Ping6Async(lab.Client, remote6), "the control: without ::/0 IPv6 reaches the remote host around the tunnel");
        await wgQuick.DownAsync();
    }

    private static async Task<bool> Ping6Async(LabHost host, string address) =>
        (await host.RunAsync("ping", "-6", "-n", "-q", "-c", "2", "-W", "1", address)).Succeeded;

    /// <summary>
    /// Stock wg-quick with stock wireguard-go. The host's resolvconf(8), which wg-quick hands DNS = to, is stood in
    /// for by a script that records what it was given (the machine's own resolver configuration stays untouched).
    /// </summary>
    private static async Task<WgQuick> WgQuickAsync(AdminLab lab)
    {
        var bin = Path.Combine(lab.Directory, "bin");
        Directory.CreateDirectory(bin);
        var log = Path.Combine(lab.Directory, "resolvconf.log");
        var shim = Path.Combine(bin, "resolvconf");
        await File.WriteAllTextAsync(shim, $"#!/bin/sh\n{{ echo \"resolvconf $*\"; cat; }} >> '{log}'\n");
        File.SetUnixFileMode(shim, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var path = Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin";
        return new WgQuick(lab, log, new Dictionary<string, string>
        {
            ["WG_QUICK_USERSPACE_IMPLEMENTATION"] = WireGuardImplementation.WireGuardGo.WgQuickImplementation(),
            ["PATH"] = bin + ":" + path,
        });
    }

    private sealed record WgQuick(AdminLab Lab, string ResolvconfLog, Dictionary<string, string> Environment)
    {
        public Task UpAsync() => RunAsync("up");

        public Task DownAsync() => RunAsync("down");

        private async Task RunAsync(string verb)
        {
            var result = await Lab.Client.RunAsync(["wg-quick", verb, Lab.ClientConfig],
                RunOptions.Default with { Environment = Environment, Timeout = TimeSpan.FromSeconds(30) });
            Assert.True(result.Succeeded, $"wg-quick {verb}: {result}\n{Lab.Diagnostics()}");
        }
    }
}
