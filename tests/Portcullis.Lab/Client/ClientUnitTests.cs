using System.Globalization;
using Portcullis.Lab.Harness;
using Portcullis.Lab.Tunnel;

namespace Portcullis.Lab.Client;

/// <summary>
/// The shipped client unit (issue 10 item 7), with no systemd as PID 1 here: systemd-analyze accepts it, and its exact
/// ExecStart= and ExecStop= command lines, run in the order and with the environment systemd gives them, hold the
/// kill switch through a crash, a failed start and the restarts between them, and release it on an explicit stop.
/// A control runs the unit's ExecStart= without --persistent (the shipped line before the fix) through the same failed
/// start and sees the host open, so the test can fail.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class ClientUnitTests
{
    [Fact]
    public async Task ClientUnit_SystemdAnalyzeVerify_AcceptsTheUnit()
    {
        var directory = Directory.CreateTempSubdirectory("pcl-unit-");
        try
        {
            // An instance of the template, with the binary where this machine has one (verify checks it is executable).
            var unit = Path.Combine(directory.FullName, "portcullis-client@lab.service");
            var text = await File.ReadAllTextAsync(ClientUnit.SourcePath);
            await File.WriteAllTextAsync(unit, text.Replace(ClientUnit.InstalledBinary, LabBinaries.Portcullis, StringComparison.Ordinal));
            var verify = await ProcessRunner.RunAsync(["systemd-analyze", "verify", "--man=no", unit], RunOptions.Default);
            Assert.True(verify.Succeeded, verify.ToString());
            Assert.Equal(string.Empty, (verify.Stdout + verify.Stderr).Trim());
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public void ClientUnit_CommandLines_PersistentKillSwitchReleasedOnlyByExecStop()
    {
        var unit = ClientUnit.Load();
        var start = unit.Command("ExecStart", "wg0", "/c");
        Assert.Equal(["connect", "--config", "/c/wg0.conf"], start[1..4]);
        Assert.Contains("--kill-switch", start);
        Assert.Contains("--persistent", start);
        Assert.Equal(["disconnect", "--interface", "wg0", "--unless-failed"], unit.Command("ExecStop", "wg0", "/c")[1..]);
        // ExecStopPost= would run before every automatic restart; a release there would open the host between tries.
        Assert.Empty(unit.Values("ExecStopPost"));
        Assert.Equal(["on-failure"], unit.Values("Restart"));
    }

    [Fact]
    public async Task ClientUnit_CrashFailedStartRestartStop_HostClosedUntilExplicitStop()
    {
        await using var lab = await ClientLab.CreateAsync();
        await lab.StartGatewayAsync(configure: true);
        var unit = ClientUnit.Load();
        var clients = Path.GetDirectoryName(lab.ConfigPath)!;
        var execStart = unit.Command("ExecStart", lab.Interface, clients);
        var execStop = unit.Command("ExecStop", lab.Interface, clients);

        // systemctl start.
        var client = await PortcullisClient.StartAsync(lab.Client, execStart, unit.Environment(), lab.Interface);
        Assert.True(await lab.Client.PingUntilAsync(lab.Remote.Address!, TimeSpan.FromSeconds(15)), $"remote through the tunnel\n{lab.Network.Diagnostics()}");

        // A crash. systemd skips ExecStop= for a failed main process; were it run, $SERVICE_RESULT says why.
        Native.Signal(client.Id, Native.SigKill);
        Assert.True(await client.WaitForExitAsync(TimeSpan.FromSeconds(5)));
        Assert.Contains("nameserver 10.99.0.1", await lab.Client.RunCheckedAsync("cat", "/etc/resolv.conf"), StringComparison.Ordinal);
        await StopCommandAsync(lab, execStop, unit.Environment(("SERVICE_RESULT", "signal"), ("EXIT_CODE", "killed"), ("EXIT_STATUS", "KILL")));
        await AssertClosedAsync(lab, "after a crash");

        // Restart=on-failure: a start that fails once it has installed the kill switch (its interface name is taken).
        await lab.Client.RunCheckedAsync("ip", "link", "add", lab.Interface, "type", "veth", "peer", "name", lab.Interface + "p");
        var failed = await lab.Client.RunAsync(execStart, RunOptions.Default with { Environment = unit.Environment(), Timeout = TimeSpan.FromSeconds(30) });
        Assert.Equal(1, failed.ExitCode);
        Assert.Contains("cannot connect", failed.Stderr, StringComparison.Ordinal);
        await StopCommandAsync(lab, execStop, unit.Environment(("SERVICE_RESULT", "exit-code"), ("EXIT_CODE", "exited"), ("EXIT_STATUS", "1")));
        await AssertClosedAsync(lab, "after a failed start");
        // The failed start leaves nothing but the kill switch: not even the resolv.conf its killed predecessor changed.
        Assert.Equal(ClientLab.OriginalResolvConf, await lab.Client.RunCheckedAsync("cat", "/etc/resolv.conf"));
        Assert.False(File.Exists($"/run/portcullis/{lab.Interface}.resolv.conf"), "the killed client's resolv.conf backup is left");

        // Control: the same failed start without --persistent (the unit before the fix) opens the host between tries.
        var unpersistent = execStart.Where(w => w != "--persistent").ToArray();
        Assert.Equal(1, (await lab.Client.RunAsync(unpersistent, RunOptions.Default with { Environment = unit.Environment(), Timeout = TimeSpan.FromSeconds(30) })).ExitCode);
        Assert.False(await lab.KillSwitchPresentAsync(), "the control: without --persistent a failed start removes the kill switch");
        Assert.True(await lab.Client.PingAsync(lab.Remote.Address!), "the control: the host is open between tries");

        // The next try succeeds (the name is free again) and closes the host again at once.
        await lab.Client.RunCheckedAsync("ip", "link", "del", lab.Interface);
        client = await PortcullisClient.StartAsync(lab.Client, execStart, unit.Environment(), lab.Interface);
        Assert.True(await lab.KillSwitchPresentAsync());
        Assert.True(await lab.Client.PingUntilAsync(lab.Remote.Address!, TimeSpan.FromSeconds(15)), $"remote through the tunnel after the restart\n{lab.Network.Diagnostics()}");
        Assert.Contains($"dev {lab.Interface}", await lab.Client.RunCheckedAsync("ip", "route", "get", lab.Remote.Address!), StringComparison.Ordinal);

        // systemctl stop: ExecStop= while the client runs ($MAINPID set, $SERVICE_RESULT success).
        await StopCommandAsync(lab, execStop, unit.Environment(("MAINPID", client.Id.ToString(CultureInfo.InvariantCulture)), ("SERVICE_RESULT", "success")));
        Assert.True(await client.WaitForExitAsync(TimeSpan.FromSeconds(15)), client.Output);
        Assert.Equal(0, client.ExitCode);
        Assert.False(await lab.KillSwitchPresentAsync(), "kill switch left after systemctl stop");
        Assert.DoesNotContain("51820", await lab.Client.RunCheckedAsync("ip", "rule"), StringComparison.Ordinal);
        Assert.False(File.Exists($"/run/portcullis/{lab.Interface}.state"), "state file left after systemctl stop");
        Assert.Equal(ClientLab.OriginalResolvConf, await lab.Client.RunCheckedAsync("cat", "/etc/resolv.conf"));
        Assert.True(await lab.Client.PingAsync(lab.Remote.Address!), "remote directly after systemctl stop");
    }

    private static async Task StopCommandAsync(ClientLab lab, string[] command, Dictionary<string, string> environment)
    {
        var stop = await lab.Client.RunAsync(command, RunOptions.Default with { Environment = environment, Timeout = TimeSpan.FromSeconds(30) });
        Assert.True(stop.Succeeded, stop.ToString());
    }

    private static async Task AssertClosedAsync(ClientLab lab, string when)
    {
        Assert.True(await lab.KillSwitchPresentAsync(), $"kill switch gone {when}");
        Assert.False(await lab.Client.PingAsync(lab.Remote.Address!), $"remote reachable outside the tunnel {when}");
    }
}
