using System.Text.RegularExpressions;
using Portcullis.Lab.Harness;
using Portcullis.Lab.Tunnel;

namespace Portcullis.Lab.Client;

/// <summary>
/// The kill switch fails closed (invariant 6): a capture on the client's physical link sees nothing but the
/// encrypted UDP to and from the endpoint — before the first handshake, after the gateway is killed, and after the
/// client itself is SIGKILLed — while the client keeps trying to reach the remote host.
/// </summary>
[Collection(LabCollection.Name)]
public sealed partial class KillSwitchTests
{
    private const string RoundDone = "round done";

    /// <summary>
    /// The observation window of a phase: until the traffic loop has made every kind of attempt at least once wholly
    /// inside it (two round ends from now), however slowly the machine runs it.
    /// </summary>
    private static async Task WholeRoundAsync(LabProcess traffic)
    {
        var start = Rounds(traffic);
        Assert.True(await Wait.UntilAsync(() => Task.FromResult(Rounds(traffic) >= start + 2),
            TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(50)), traffic.ToString());
    }

    private static int Rounds(LabProcess traffic) =>
        traffic.Output.Split('\n').Count(line => line.Trim() == RoundDone);

    [Fact]
    public async Task KillSwitch_LeakTest_OnlyEncryptedPacketsToTheEndpointInEveryPhase()
    {
        await using var lab = await ClientLab.CreateAsync();
        // Phase 1: the gateway exists but answers nothing yet (wireguard-go not configured), so no handshake.
        await lab.StartGatewayAsync(configure: false);
        var client = await lab.ConnectAsync("--kill-switch");
        Assert.True(await lab.KillSwitchPresentAsync());
        // What the client sends (-Q out): the neighbours' multicast and the gateway's port-unreachable errors arriving
        // on the link are not the client's doing. The capture starts once connect is up, so the router solicitations
        // the kernel sent when the lab brought eth0 up (before any VPN) are not counted; no handshake can have
        // happened yet, as the gateway is not configured. ARP is below IP (the router asking for our MAC): not counted.
        var pcap = Path.Combine(lab.Network.CreateTempDirectory(), "client-eth0.pcap");
        await using var capture = lab.Client.Start("tcpdump", "-i", "eth0", "-Q", "out", "-n", "-U", "-w", pcap, "ip or ip6");
        Assert.True(await Wait.UntilAsync(() => Task.FromResult(capture.Output.Contains("listening on", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(20)), capture.ToString());
        await using var traffic = lab.Client.Start("sh", "-c",
            $"while true; do {{ ping -n -c 1 -W 1 {lab.Remote.Address}; curl -s -m 1 http://{lab.Remote.Address}/; ping -6 -n -c 1 -W 1 {lab.Remote.Address6}; ping -n -c 1 -W 1 {lab.Neighbour.Address}; }} >/dev/null 2>&1; echo {RoundDone}; done");
        await WholeRoundAsync(traffic);
        Assert.False(await lab.Client.PingAsync(lab.Remote.Address!), "remote reachable before the tunnel is up");

        // The tunnel works through the kill switch once the gateway answers.
        await lab.ConfigureGatewayAsync();
        Assert.True(await lab.Client.PingUntilAsync(lab.Remote.Address!, TimeSpan.FromSeconds(15)), $"remote through the tunnel\n{lab.Network.Diagnostics()}");

        // Phase 2: the gateway vanishes.
        await lab.GatewayDevice!.DisposeAsync();
        await WholeRoundAsync(traffic);
        Assert.False(await lab.Client.PingAsync(lab.Remote.Address!), "remote reachable with the gateway gone");

        // Phase 3: the client is SIGKILLed; the kill switch is kernel state and stays.
        Native.Signal(client.Id, Native.SigKill);
        Assert.True(await client.WaitForExitAsync(TimeSpan.FromSeconds(5)));
        await WholeRoundAsync(traffic);
        Assert.True(await lab.KillSwitchPresentAsync(), "kill switch gone with the client");
        Assert.False(await lab.Client.PingAsync(lab.Remote.Address!), "remote reachable after the client was killed");
        var status = await lab.PortcullisAsync("status", "--interface", lab.Interface);
        Assert.Contains("is gone", status.Stdout, StringComparison.Ordinal);
        Assert.Contains("kill switch: on", status.Stdout, StringComparison.Ordinal);

        await traffic.DisposeAsync();
        capture.Terminate();
        Assert.True(await capture.WaitForExitAsync(TimeSpan.FromSeconds(5)));
        var packets = (await lab.Client.RunCheckedAsync("tcpdump", "-r", pcap, "-n")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var endpoint = $"{lab.Gateway.Address}.{ClientLab.ListenPort}";
        var allowed = EncryptedPacket(lab.Client.Address!, endpoint);
        var leaks = packets.Where(p => !allowed.IsMatch(p)).ToList();
        Assert.True(leaks.Count == 0, $"{leaks.Count} packet(s) outside the tunnel:\n{string.Join('\n', leaks.Take(20))}");
        Assert.Contains(packets, p => p.Contains($"> {endpoint}: UDP", StringComparison.Ordinal));

        // disconnect removes the kill switch, the rules and the DNS change left by the killed client.
        var disconnect = await lab.PortcullisAsync("disconnect", "--interface", lab.Interface);
        Assert.True(disconnect.Succeeded, disconnect.ToString());
        Assert.False(await lab.KillSwitchPresentAsync(), disconnect.Stdout);
        Assert.DoesNotContain("51820", await lab.Client.RunCheckedAsync("ip", "rule"), StringComparison.Ordinal);
        Assert.Equal(string.Empty, (await lab.Client.RunCheckedAsync("nft", "list", "tables")).Trim());
        Assert.Equal(ClientLab.OriginalResolvConf, await lab.Client.RunCheckedAsync("cat", "/etc/resolv.conf"));
        Assert.True(await lab.Client.PingAsync(lab.Remote.Address!), "remote directly after disconnect");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task KillSwitch_AllowLan_NeighbourReachableOnlyWhenAllowed(bool allowLan)
    {
        await using var lab = await ClientLab.CreateAsync();
        await lab.StartGatewayAsync(configure: true);
        string[] options = allowLan ? ["--kill-switch", "--allow-lan"] : ["--kill-switch"];
        var client = await lab.ConnectAsync(options);
        Assert.True(await lab.Client.PingUntilAsync(lab.Remote.Address!, TimeSpan.FromSeconds(10)), $"remote through the tunnel\n{lab.Network.Diagnostics()}");
        Assert.Equal(allowLan, await lab.Client.PingAsync(lab.Neighbour.Address!, count: 2));
        // The LAN allowance is the LAN only: the router's other segments stay behind the tunnel.
        Assert.Contains($"dev {lab.Interface}", await lab.Client.RunCheckedAsync("ip", "route", "get", lab.Remote.Address!), StringComparison.Ordinal);

        client.Terminate();
        Assert.True(await client.WaitForExitAsync(TimeSpan.FromSeconds(15)), client.Output);
        Assert.False(await lab.KillSwitchPresentAsync(), "a clean exit removes the kill switch");
    }

    [Fact]
    public async Task KillSwitch_Persistent_StaysAfterCleanExitUntilDisconnect()
    {
        await using var lab = await ClientLab.CreateAsync();
        await lab.StartGatewayAsync(configure: true);
        var client = await lab.ConnectAsync("--kill-switch", "--persistent");
        client.Terminate();
        Assert.True(await client.WaitForExitAsync(TimeSpan.FromSeconds(15)), client.Output);
        Assert.True(await lab.KillSwitchPresentAsync(), "--persistent kill switch removed on exit");
        Assert.False(await lab.Client.PingAsync(lab.Remote.Address!), "remote reachable with the persistent kill switch");

        var disconnect = await lab.PortcullisAsync("disconnect", "--interface", lab.Interface);
        Assert.Contains("kill switch removed", disconnect.Stdout, StringComparison.Ordinal);
        Assert.False(await lab.KillSwitchPresentAsync());
        Assert.True(await lab.Client.PingAsync(lab.Remote.Address!));
    }

    [Fact]
    public async Task KillSwitch_InterfaceDeletedUnderTheClient_StaysUntilDisconnect()
    {
        await using var lab = await ClientLab.CreateAsync();
        await lab.StartGatewayAsync(configure: true);
        var client = await lab.ConnectAsync("--kill-switch");
        await lab.Client.RunCheckedAsync("ip", "link", "del", lab.Interface);
        Assert.True(await client.WaitForExitAsync(TimeSpan.FromSeconds(10)), client.Output);
        Assert.Equal(1, client.ExitCode);
        Assert.True(await lab.KillSwitchPresentAsync(), "kill switch removed when the interface vanished");
        Assert.False(await lab.Client.PingAsync(lab.Remote.Address!), "remote reachable outside the tunnel");

        Assert.True((await lab.PortcullisAsync("disconnect", "--interface", lab.Interface)).Succeeded);
        Assert.False(await lab.KillSwitchPresentAsync());
        Assert.True(await lab.Client.PingAsync(lab.Remote.Address!));
    }

    /// <summary>tcpdump -n lines for UDP from the client to the endpoint.</summary>
    private static Regex EncryptedPacket(string client, string endpoint) =>
        new($@"^\S+ IP {Regex.Escape(client)}\.\d+ > {Regex.Escape(endpoint)}: UDP, length \d+$");
}
