using Portcullis.Lab.Gateway;
using Portcullis.Lab.Tunnel;
using static Portcullis.Lab.PortKeeper.PortKeeperLab;

namespace Portcullis.Lab.PortKeeper;

/// <summary>
/// `portcullis connect --forward` against `portcullis gateway`: the port is mapped over PCP, published (port file,
/// hook), reachable from the internet, mapped again after the gateway restarts having lost its state, and deleted
/// on a clean exit.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class PortKeeperTests
{
    [Fact]
    public async Task Forward_MapPublishReachRemapAfterGatewayCrashDeleteOnExit()
    {
        await using var lab = await PortKeeperLab.CreateAsync();
        await lab.StartGatewayAsync();
        await using var listener = await Probes.ListenAsync(lab.Client, "tcp", 8080);
        var client = await lab.ConnectAsync("--interface", lab.Interface, "--forward", "tcp:8080", "--port-file", lab.PortFile,
            "--on-port-change", $"echo \"{{port}} $PORTCULLIS_PORT\" >> '{lab.HookFile}'");

        // Mapped and published.
        Assert.True(await WaitAsync(() => Task.FromResult(lab.ReadPortFile() is not null && lab.HookLines().Length > 0), TimeSpan.FromSeconds(20)),
            $"no port published\n{lab.Diagnostics()}");
        var port = lab.ReadPortFile()!.Value;
        Assert.Equal($"{port} {port}", Assert.Single(lab.HookLines()));
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
        Assert.StartsWith("client from 192.0.2.100", await Probes.AskAsync(lab.Remote, "tcp", PublicAddress, again) ?? "no answer", StringComparison.Ordinal);

        // A clean exit deletes the mapping at once (the session is still live: only the delete can remove it).
        client.Terminate();
        Assert.True(await client.WaitForExitAsync(TimeSpan.FromSeconds(15)), client.Output);
        Assert.Equal(0, client.ExitCode);
        Assert.DoesNotContain(Element(again, 8080), await lab.RulesetAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Forward_WithKillSwitch_MappedReachableAndMappedAgainAfterGatewayCrash()
    {
        await using var lab = await PortKeeperLab.CreateAsync();
        await lab.StartGatewayAsync();
        await using var listener = await Probes.ListenAsync(lab.Client, "tcp", 8080);
        var client = await lab.ConnectAsync("--interface", lab.Interface, "--kill-switch", "--forward", "tcp:8080", "--port-file", lab.PortFile);

        Assert.True(await WaitAsync(() => Task.FromResult(lab.ReadPortFile() is not null), TimeSpan.FromSeconds(20)),
            $"no port published\n{lab.Diagnostics()}");
        var port = lab.ReadPortFile()!.Value;
        Assert.Contains(Element(port, 8080), await lab.RulesetAsync(), StringComparison.Ordinal);
        Assert.StartsWith("client from 192.0.2.100", await Probes.AskAsync(lab.Remote, "tcp", PublicAddress, port) ?? "no answer", StringComparison.Ordinal);

        // The kill switch drops the gateway's announcement (a new inbound datagram to UDP 5350); the epoch probe
        // still notices the restart. The epoch rule (RFC 6887 §8.5) sees a restart only when the gateway had run
        // for more than a few seconds before it: the new epoch then lags the client's clock by that long.
        await Task.Delay(TimeSpan.FromSeconds(6));
        await lab.KillGatewayAsync();
        await lab.StartGatewayAsync();
        var remapped = await WaitAsync(async () =>
            lab.ReadPortFile() is int now && (await lab.RulesetAsync()).Contains(Element(now, 8080), StringComparison.Ordinal), TimeSpan.FromSeconds(40));
        Assert.True(remapped, $"not mapped again after the gateway restart\n{client.Output}\n{lab.Diagnostics()}");
        var again = lab.ReadPortFile()!.Value;

        client.Terminate();
        Assert.True(await client.WaitForExitAsync(TimeSpan.FromSeconds(15)), client.Output);
        Assert.DoesNotContain(Element(again, 8080), await lab.RulesetAsync(), StringComparison.Ordinal);
    }
}
