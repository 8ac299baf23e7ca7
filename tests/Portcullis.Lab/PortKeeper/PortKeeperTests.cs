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
        await lab.KillGatewayAsync();
        await lab.StartGatewayAsync();
        Assert.DoesNotContain(Element(port, 8080), await lab.RulesetAsync(), StringComparison.Ordinal);
        var remapped = await WaitAsync(async () =>
            lab.ReadPortFile() is int now && lab.HookLines()[^1] == $"{now} {now}"
            && (await lab.RulesetAsync()).Contains(Element(now, 8080), StringComparison.Ordinal), TimeSpan.FromSeconds(20));
        Assert.True(remapped, $"not mapped again after the gateway restart\n{lab.Diagnostics()}");
        var again = lab.ReadPortFile()!.Value;
        Assert.StartsWith("client from 192.0.2.100", await Probes.AskAsync(lab.Remote, "tcp", PublicAddress, again) ?? "no answer", StringComparison.Ordinal);

        // A clean exit deletes the mapping at once (the session is still live: only the delete can remove it).
        client.Terminate();
        Assert.True(await client.WaitForExitAsync(TimeSpan.FromSeconds(15)), client.Output);
        Assert.Equal(0, client.ExitCode);
        Assert.DoesNotContain(Element(again, 8080), await lab.RulesetAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Forward_WithKillSwitch_MappedThroughTheTunnelAndReachable()
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

        client.Terminate();
        Assert.True(await client.WaitForExitAsync(TimeSpan.FromSeconds(15)), client.Output);
        Assert.DoesNotContain(Element(port, 8080), await lab.RulesetAsync(), StringComparison.Ordinal);
    }
}
