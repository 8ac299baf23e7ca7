using System.Text.RegularExpressions;
using Portcullis.Lab.Gateway;
using Portcullis.Lab.Harness;
using Portcullis.Lab.Tunnel;

namespace Portcullis.Lab.Client;

/// <summary>
/// The kill switch also holds for traffic the client host forwards (issue 10 item 6): a guest namespace routed
/// through the client (a container, a VM, a LAN behind it) reaches the remote host through the tunnel when it is
/// up and not at all otherwise — before the first handshake, with the gateway gone, after the client is SIGKILLed
/// (no tunnel routes left), and with --persistent after a clean exit. A capture on the client's physical link sees
/// nothing but the encrypted UDP to the endpoint. Controls: the guest reaches the remote directly before any kill
/// switch, and again as soon as the kill switch loses its forward chain, so the test can fail. With --allow-lan the
/// guest reaches the LAN but not a resolver there; a forwarded port DNATed on to the guest answers the tunnel only.
/// </summary>
[Collection(LabCollection.Name)]
public sealed partial class ForwardedTrafficTests
{
    private const int ProbePort = 8000;

    [Fact]
    public async Task KillSwitch_RoutedGuest_ReachesTheInternetOnlyThroughTheTunnel()
    {
        await using var lab = await ClientLab.CreateAsync();
        var guest = await lab.AddGuestAsync();
        await Probes.ListenAsync(lab.Remote, "tcp", ProbePort);
        var direct = $"tcp: remote from {lab.Client.Address}";
        var tunnelled = $"tcp: remote from {lab.Gateway.Address}";

        // Control: without a kill switch the guest goes out on the client's link, masqueraded to its LAN address.
        Assert.Contains(direct, await ThroughAsync(lab, guest));

        // 1. Kill switch on, tunnel routes in place, no handshake yet (the gateway answers nothing).
        await lab.StartGatewayAsync(configure: false);
        var client = await lab.ConnectAsync("--kill-switch");
        var pcap = Path.Combine(lab.Network.CreateTempDirectory(), "client-eth0.pcap");
        await using var capture = lab.Client.Start("tcpdump", "-i", "eth0", "-Q", "out", "-n", "-U", "-w", pcap, "ip or ip6");
        Assert.True(await Wait.UntilAsync(() => Task.FromResult(capture.Output.Contains("listening on", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(50)), capture.ToString());
        Assert.Empty(await ThroughAsync(lab, guest));

        // The tunnel up: the guest reaches the remote through it, and its LAN neighbour still not (no --allow-lan).
        await lab.ConfigureGatewayAsync();
        Assert.True(await guest.PingUntilAsync(lab.Remote.Address!, TimeSpan.FromSeconds(20)), $"guest through the tunnel\n{lab.Network.Diagnostics()}");
        Assert.Equal([tunnelled, "ping remote"], await ThroughAsync(lab, guest));

        // 2. The gateway vanishes.
        await lab.GatewayDevice!.DisposeAsync();
        Assert.Empty(await ThroughAsync(lab, guest));

        // 3. The client is SIGKILLed: its TUN device and every tunnel route went with it; the kill switch stays.
        Native.Signal(client.Id, Native.SigKill);
        Assert.True(await client.WaitForExitAsync(TimeSpan.FromSeconds(5)));
        Assert.Contains("dev eth0", await lab.Client.RunCheckedAsync("ip", "route", "get", lab.Remote.Address!), StringComparison.Ordinal);
        Assert.True(await lab.KillSwitchPresentAsync(), "kill switch gone with the client");
        Assert.Empty(await ThroughAsync(lab, guest));

        // 4. --persistent: a clean exit keeps the kill switch, routes gone as after a crash.
        var persistent = await lab.ConnectAsync("--kill-switch", "--persistent");
        persistent.Terminate();
        Assert.True(await persistent.WaitForExitAsync(TimeSpan.FromSeconds(15)), persistent.Output);
        Assert.True(await lab.KillSwitchPresentAsync(), "--persistent kill switch removed on exit");
        Assert.Empty(await ThroughAsync(lab, guest));

        capture.Terminate();
        Assert.True(await capture.WaitForExitAsync(TimeSpan.FromSeconds(5)));
        var packets = (await lab.Client.RunCheckedAsync("tcpdump", "-r", pcap, "-n")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var endpoint = $"{lab.Gateway.Address}.{ClientLab.ListenPort}";
        var allowed = new Regex($@"^\S+ IP {Regex.Escape(lab.Client.Address!)}\.\d+ > {Regex.Escape(endpoint)}: UDP, length \d+$");
        var leaks = packets.Where(p => !allowed.IsMatch(p)).ToList();
        Assert.True(leaks.Count == 0, $"{leaks.Count} packet(s) outside the tunnel:\n{string.Join('\n', leaks.Take(20))}");
        Assert.Contains(packets, p => p.Contains($"> {endpoint}: UDP", StringComparison.Ordinal));

        // Control: the same kill switch without its forward chain lets the guest out at once.
        await lab.Client.RunCheckedAsync("nft", "delete", "chain", "inet", "portcullis_killswitch", "forward");
        Assert.Contains(direct, await ThroughAsync(lab, guest));

        var disconnect = await lab.PortcullisAsync("disconnect", "--interface", lab.Interface);
        Assert.True(disconnect.Succeeded, disconnect.ToString());
        Assert.False(await lab.KillSwitchPresentAsync());
    }

    [Fact]
    public async Task KillSwitch_AllowLan_GuestReachesTheLanButNotItsResolver()
    {
        await using var lab = await ClientLab.CreateAsync();
        var guest = await lab.AddGuestAsync();
        await lab.StartGatewayAsync(configure: true);
        await using var udp = await Probes.ListenAsync(lab.Neighbour, "udp", 53);
        await using var tcp = await Probes.ListenAsync(lab.Neighbour, "tcp", 53);
        await using var other = await Probes.ListenAsync(lab.Neighbour, "tcp", 54);
        var client = await lab.ConnectAsync("--kill-switch", "--allow-lan");
        Assert.True(await guest.PingUntilAsync(lab.Remote.Address!, TimeSpan.FromSeconds(15)), $"guest through the tunnel\n{lab.Network.Diagnostics()}");

        // The LAN is open to the guest and to the client itself, but a LAN resolver is not, over UDP or TCP.
        Assert.True(await guest.PingAsync(lab.Neighbour.Address!, count: 2), "guest to the LAN with --allow-lan");
        Assert.NotNull(await Probes.AskAsync(guest, "tcp", lab.Neighbour.Address!, 54));
        Assert.NotNull(await Probes.AskAsync(lab.Client, "tcp", lab.Neighbour.Address!, 54));
        foreach (var from in new[] { guest, lab.Client })
        {
            Assert.Null(await Probes.AskAsync(from, "udp", lab.Neighbour.Address!, 53));
            Assert.Null(await Probes.AskAsync(from, "tcp", lab.Neighbour.Address!, 53));
        }

        client.Terminate();
        Assert.True(await client.WaitForExitAsync(TimeSpan.FromSeconds(15)), client.Output);

        // Control: without the kill switch the same resolver answers both.
        Assert.NotNull(await Probes.AskAsync(guest, "udp", lab.Neighbour.Address!, 53));
        Assert.NotNull(await Probes.AskAsync(lab.Client, "tcp", lab.Neighbour.Address!, 53));
    }

    [Fact]
    public async Task KillSwitch_ForwardedPortDnatedToAGuest_ReachableThroughTheTunnelOnly()
    {
        await using var lab = await ClientLab.CreateAsync();
        var guest = await lab.AddGuestAsync();
        await lab.StartGatewayAsync(configure: true);
        // As `docker run -p` publishes a container's port: the host DNATs its own port to the guest's. 8080 is the
        // forwarded port (the kill switch knows it from --forward tcp:8080); 8081 is any other published port.
        await lab.Client.RunCheckedAsync("nft", "add", "chain", "ip", "labguest", "pre", "{ type nat hook prerouting priority dstnat ; }");
        await lab.Client.RunCheckedAsync("nft", "add", "rule", "ip", "labguest", "pre", "tcp", "dport", "{ 8080, 8081 }", "dnat", "to", $"{guest.Address}");
        await using var forwarded = await Probes.ListenAsync(guest, "tcp", 8080);
        await using var published = await Probes.ListenAsync(guest, "tcp", 8081);
        var client = await lab.ConnectAsync("--kill-switch", "--allow-lan", "--forward", "tcp:8080");
        Assert.True(await lab.Client.PingUntilAsync(ClientLab.GatewayInner, TimeSpan.FromSeconds(15)), $"client to the gateway through the tunnel\n{lab.Network.Diagnostics()}");

        // Through the tunnel (the gateway, as a remote host mapped to the port would come): on to the guest.
        Assert.Equal($"guest from {ClientLab.GatewayInner}", await Probes.AskAsync(lab.Gateway, "tcp", ClientLab.ClientInner, 8080));
        // From the LAN: the forwarded port is dark, though the LAN may reach the guest's other published port.
        Assert.Null(await Probes.AskAsync(lab.Neighbour, "tcp", lab.Client.Address!, 8080));
        Assert.Equal($"guest from {lab.Neighbour.Address}", await Probes.AskAsync(lab.Neighbour, "tcp", lab.Client.Address!, 8081));

        // Control: the same DNAT without the kill switch lets the LAN in on the forwarded port.
        client.Terminate();
        Assert.True(await client.WaitForExitAsync(TimeSpan.FromSeconds(15)), client.Output);
        Assert.Equal($"guest from {lab.Neighbour.Address}", await Probes.AskAsync(lab.Neighbour, "tcp", lab.Client.Address!, 8080));
    }

    /// <summary>What of the guest's tries got an answer: a TCP probe of the remote (naming the source it saw), a
    /// ping of the remote (IPv4 and IPv6) and of the client's LAN neighbour. Each try ends by its own timeout.</summary>
    private static async Task<List<string>> ThroughAsync(ClientLab lab, LabHost guest)
    {
        var through = new List<string>();
        if (await Probes.AskAsync(guest, "tcp", lab.Remote.Address!, ProbePort) is { } answer)
            through.Add($"tcp: {answer}");
        if (await guest.PingAsync(lab.Remote.Address!, count: 2))
            through.Add("ping remote");
        if ((await guest.RunAsync("ping", "-6", "-n", "-q", "-c", "2", "-W", "1", lab.Remote.Address6!)).Succeeded)
            through.Add("ping6 remote");
        if (await guest.PingAsync(lab.Neighbour.Address!))
            through.Add("ping neighbour");
        return through;
    }
}
