using Portcullis.Lab.Gateway;
using Portcullis.Lab.Tunnel;
using static Portcullis.Lab.PortKeeper.PortKeeperLab;

namespace Portcullis.Lab.PortKeeper;

/// <summary>
/// `portcullis connect --forward` against `portcullis gateway`: the port is mapped over PCP, published (port file,
/// hook, a real qbittorrent-nox and transmission-daemon), reachable from the internet, mapped again and published
/// again after the gateway restarts having lost its state, and deleted on a clean exit. With the kill switch: the
/// leased port is open on the tunnel and dark from the LAN.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class PortKeeperTests
{
    private const int QBittorrentWebPort = 8081;
    private const int TransmissionRpcPort = 9091;
    private const string QBittorrentPassword = "lab-Pa55word";
    private static readonly TimeSpan AppBound = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Forward_MapPublishReachRemapAfterGatewayCrashDeleteOnExit()
    {
        await using var lab = await PortKeeperLab.CreateAsync();
        await lab.StartGatewayAsync();
        await using var listener = await Probes.ListenAsync(lab.Client, "tcp", 8080);
        var transmission = await TorrentApp.StartTransmissionAsync(lab.Client, lab.Network.CreateTempDirectory(), TransmissionRpcPort);
        // qBittorrent asks even localhost to log in here, so the updater's real login (SID cookie, Referer) is used.
        var passwordFile = Path.Combine(lab.Directory, "qbittorrent.password");
        await File.WriteAllTextAsync(passwordFile, QBittorrentPassword + "\n");
        var client = await lab.ConnectAsync("--interface", lab.Interface, "--forward", "tcp:8080", "--port-file", lab.PortFile,
            "--on-port-change", $"echo \"{{port}} $PORTCULLIS_PORT\" >> '{lab.HookFile}'",
            "--qbittorrent", $"http://127.0.0.1:{QBittorrentWebPort}", "--qbittorrent-user", TorrentApp.QBittorrentUser,
            "--qbittorrent-password-file", passwordFile, "--transmission", transmission.Url);
        // qBittorrent starts after the client: its updater finds nobody listening and retries until the Web UI answers.
        var qbittorrent = await TorrentApp.StartQBittorrentAsync(lab.Client, lab.Network.CreateTempDirectory(), QBittorrentWebPort, QBittorrentPassword);

        // Mapped and published.
        Assert.True(await WaitAsync(() => Task.FromResult(lab.ReadPortFile() is not null && lab.HookLines().Length > 0), TimeSpan.FromSeconds(20)),
            $"no port published\n{lab.Diagnostics()}");
        var port = lab.ReadPortFile()!.Value;
        Assert.Equal($"{port} {port}", Assert.Single(lab.HookLines()));
        Assert.True(await AppsListenOnAsync(port, qbittorrent, transmission), $"the applications were not told {port}\n{client.Output}");
        Assert.Contains(Element(port, 8080), await lab.RulesetAsync(), StringComparison.Ordinal);
        Assert.StartsWith("client from 192.0.2.100", await Probes.AskAsync(lab.Remote, "tcp", PublicAddress, port) ?? "no answer", StringComparison.Ordinal);
        var status = await lab.Client.RunCheckedAsync(Harness.LabBinaries.Portcullis, "status", "--interface", lab.Interface);
        Assert.Contains($"forwarded port: {port} (tcp:8080), lease until 20", status, StringComparison.Ordinal);

        // The gateway crashes and comes back without its mappings: the client maps again and publishes the port.
        // How soon is bounded by the client, not the gateway (which has no endpoint to reach it at): the next epoch
        // probe (every 15 s) goes unanswered, WireGuard starts a new handshake 15 s after unanswered data
        // (KEEPALIVE + REKEY_TIMEOUT), the new session makes the gateway announce, and the client maps again.
        await lab.KillGatewayAsync();
        await lab.StartGatewayAsync();
        Assert.DoesNotContain(Element(port, 8080), await lab.RulesetAsync(), StringComparison.Ordinal);
        var remapped = await WaitAsync(async () =>
            lab.ReadPortFile() is int now && lab.HookLines()[^1] == $"{now} {now}"
            && (await lab.RulesetAsync()).Contains(Element(now, 8080), StringComparison.Ordinal), TimeSpan.FromSeconds(45));
        Assert.True(remapped, $"not mapped again after the gateway restart\n{client.Output}\n{lab.Diagnostics()}");
        var again = lab.ReadPortFile()!.Value;
        // The restarted gateway forgot the port and draws another at random (allow_suggested_port is off).
        Assert.NotEqual(port, again);
        Assert.True(await AppsListenOnAsync(again, qbittorrent, transmission), $"the applications were not told {again}\n{client.Output}");
        Assert.StartsWith("client from 192.0.2.100", await Probes.AskAsync(lab.Remote, "tcp", PublicAddress, again) ?? "no answer", StringComparison.Ordinal);

        // A clean exit deletes the mapping at once (the session is still live: only the delete can remove it).
        client.Terminate();
        Assert.True(await client.WaitForExitAsync(TimeSpan.FromSeconds(15)), client.Output);
        Assert.Equal(0, client.ExitCode);
        Assert.DoesNotContain(Element(again, 8080), await lab.RulesetAsync(), StringComparison.Ordinal);
        Assert.Contains("qBittorrent: listening port set to", client.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(QBittorrentPassword, client.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Forward_BothWithKillSwitch_OnePortOpenOnTheTunnelDarkFromTheLanMappedAgainAfterGatewayCrash()
    {
        // The gateway honours suggestions here, so UDP gets TCP's port (`--forward both` asks for it).
        await using var lab = await PortKeeperLab.CreateAsync(allowSuggestedPort: true);
        var neighbour = await lab.AddNeighbourAsync();
        await lab.StartGatewayAsync();
        // The LAN is open (--allow-lan): a control service answers the neighbour, the forwarded one must not.
        await using var control = await Probes.ListenAsync(lab.Client, "tcp", 9090);
        var client = await lab.ConnectAsync("--interface", lab.Interface, "--kill-switch", "--allow-lan", "--forward", "both", "--port-file", lab.PortFile);

        Assert.True(await WaitAsync(() => Task.FromResult(lab.ReadPortFile() is not null), TimeSpan.FromSeconds(20)),
            $"no port published\n{lab.Diagnostics()}");
        var port = lab.ReadPortFile()!.Value;
        // No internal port was given: the service listens on the port the gateway picked, known only now.
        await using var tcp = await Probes.ListenAsync(lab.Client, "tcp", port);
        await using var udp = await Probes.ListenAsync(lab.Client, "udp", port);
        var ruleset = await lab.RulesetAsync();
        Assert.Contains(Element(port, port), ruleset, StringComparison.Ordinal);
        Assert.Equal(2, CountOf(ruleset, Element(port, port)));
        Assert.True(await WaitAsync(async () => await KillSwitchSetAsync(lab, "tcp") == $"{port}" && await KillSwitchSetAsync(lab, "udp") == $"{port}",
            TimeSpan.FromSeconds(10)), $"kill switch sets not updated\n{client.Output}");

        Assert.StartsWith("client from 192.0.2.100", await Probes.AskAsync(lab.Remote, "tcp", PublicAddress, port) ?? "no answer", StringComparison.Ordinal);
        Assert.StartsWith("client from 192.0.2.100", await Probes.AskAsync(lab.Remote, "udp", PublicAddress, port) ?? "no answer", StringComparison.Ordinal);
        Assert.StartsWith("client from 203.0.113.30", await Probes.AskAsync(neighbour, "tcp", lab.Client.Address!, 9090) ?? "no answer", StringComparison.Ordinal);
        Assert.Null(await Probes.AskAsync(neighbour, "tcp", lab.Client.Address!, port));
        Assert.Null(await Probes.AskAsync(neighbour, "udp", lab.Client.Address!, port));

        // The kill switch lets the gateway's announcement in on the tunnel; with the epoch probe it notices a restart.
        // The epoch rule (RFC 6887 §8.5) sees a restart only when the gateway had run for more than a few seconds
        // before it: the new epoch then lags the client's clock by that long.
        await Task.Delay(TimeSpan.FromSeconds(6));
        await lab.KillGatewayAsync();
        await lab.StartGatewayAsync();
        var remapped = await WaitAsync(async () =>
            lab.ReadPortFile() is int now && CountOf(await lab.RulesetAsync(), Element(now, now)) == 2, TimeSpan.FromSeconds(40));
        Assert.True(remapped, $"not mapped again after the gateway restart\n{client.Output}\n{lab.Diagnostics()}");
        var again = lab.ReadPortFile()!.Value;
        // The client suggests its old port, which this gateway honours: the service keeps its number.
        Assert.Equal(port, again);
        Assert.StartsWith("client from 192.0.2.100", await Probes.AskAsync(lab.Remote, "tcp", PublicAddress, again) ?? "no answer", StringComparison.Ordinal);

        client.Terminate();
        Assert.True(await client.WaitForExitAsync(TimeSpan.FromSeconds(15)), client.Output);
        Assert.Equal(0, CountOf(await lab.RulesetAsync(), Element(again, again)));
    }

    private static async Task<bool> AppsListenOnAsync(int port, params TorrentApp[] apps) =>
        await WaitAsync(async () =>
        {
            foreach (var app in apps)
            {
                if (await app.ListeningPortAsync() != port)
                    return false;
            }
            return true;
        }, AppBound);

    /// <summary>The elements of the kill switch's forwarded-port set, as nft prints them ("" when empty).</summary>
    private static async Task<string> KillSwitchSetAsync(PortKeeperLab lab, string protocol)
    {
        var text = await lab.Client.RunCheckedAsync("nft", "list", "set", "inet", "portcullis_killswitch", $"forwarded_{protocol}");
        var start = text.IndexOf("elements = {", StringComparison.Ordinal);
        return start < 0 ? "" : text[(start + "elements = {".Length)..text.IndexOf('}', start)].Trim();
    }

    private static int CountOf(string text, string part)
    {
        var count = 0;
        for (var i = text.IndexOf(part, StringComparison.Ordinal); i >= 0; i = text.IndexOf(part, i + part.Length, StringComparison.Ordinal))
            count++;
        return count;
    }
}
