using System.Text.RegularExpressions;
using Portcullis.Lab.Gateway;
using Portcullis.Lab.Tunnel;
using static Portcullis.Lab.PortKeeper.PortKeeperLab;

namespace Portcullis.Lab.PortKeeper;

/// <summary>
/// "Port Fail" (PROTOCOLS.md): another user of the gateway forwards a port; our client, full tunnel, connects to it
/// on the gateway's public address. A client with a host route to the gateway outside the tunnel would send that
/// connection over its physical link and show the other user its real address. Ours routes with fwmark (only the
/// encrypted packets bypass the tunnel), so the connection goes through the tunnel and the gateway's hairpin.
/// No kill switch here: routing alone must hold.
/// </summary>
[Collection(LabCollection.Name)]
public sealed partial class PortFailTests
{
    [Fact]
    public async Task PortFail_ConnectToAnotherUsersForwardedPort_OtherSideNeverSeesOurPhysicalAddress()
    {
        await using var lab = await PortKeeperLab.CreateAsync();
        await lab.StartGatewayAsync();
        var other = await lab.StartOtherClientAsync();
        await using var service = await Probes.ListenAsync(other, "tcp", 7000);
        var port = await NatPmpClient.MapCheckedAsync(other, "tcp", 7000);
        Assert.StartsWith("other from 192.0.2.100", await Probes.AskAsync(lab.Remote, "tcp", PublicAddress, port) ?? "no answer", StringComparison.Ordinal);

        var client = await lab.ConnectAsync("--interface", lab.Interface);
        // What the client sends on its physical link. IPv6 from the link-local (or unspecified) address is left out: the
        // kernel's router solicitations and multicast listener reports (eth0 came up moments ago; a report carries a
        // hop-by-hop header, so tcpdump's "icmp6" does not see it) are link housekeeping that carries no connection.
        var pcap = Path.Combine(lab.Network.CreateTempDirectory(), "client-eth0.pcap");
        // --immediate-mode: this test is short, and packets still in the capture ring when tcpdump is stopped are lost.
        await using var capture = lab.Client.Start("tcpdump", "-i", "eth0", "-Q", "out", "-n", "-U", "--immediate-mode", "-w", pcap, "ip or (ip6 and not src net fe80::/10 and not src host ::)");
        Assert.True(await WaitAsync(() => Task.FromResult(capture.Output.Contains("listening on eth0", StringComparison.Ordinal)), TimeSpan.FromSeconds(10)),
            $"tcpdump did not start\n{capture.Output}");

        // The first attempts may meet the handshake still under way; the answer must come, and from the gateway.
        string? answer = null;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (answer is null && DateTime.UtcNow < deadline)
            answer = await Probes.AskAsync(lab.Client, "tcp", PublicAddress, port);
        Assert.True(answer is not null, $"no answer from the other user's service\n{client.Output}\n{lab.Diagnostics()}");
        var source = SourceOf(answer!);
        Assert.DoesNotContain("203.0.113.", source, StringComparison.Ordinal);
        Assert.Contains(source, new[] { GatewayTunnelAddress, PublicAddress });
        // A second connection, once the tunnel is settled, takes the same way.
        Assert.Equal(answer, await Probes.AskAsync(lab.Client, "tcp", PublicAddress, port));

        capture.Terminate();
        Assert.True(await capture.WaitForExitAsync(TimeSpan.FromSeconds(5)));
        var packets = (await lab.Client.RunCheckedAsync("tcpdump", "-r", pcap, "-n")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var encrypted = new Regex($@"^\S+ IP {Regex.Escape(lab.Client.Address!)}\.\d+ > {Regex.Escape(PublicAddress)}\.{ListenPort}: UDP, length \d+$");
        var leaks = packets.Where(p => !encrypted.IsMatch(p)).ToList();
        Assert.True(leaks.Count == 0, $"{leaks.Count} packet(s) outside the tunnel:\n{string.Join('\n', leaks.Take(20))}");
        Assert.True(packets.Length > 0, $"nothing captured\n{capture.Output}");

        // The control: a client with a host route to the gateway outside the tunnel (as VPN clients of 2015 had)
        // falls for it, and the other user sees our physical address. So the checks above can fail.
        await lab.Client.RunCheckedAsync("ip", "route", "add", $"{PublicAddress}/32", "via", "203.0.113.1", "dev", "eth0");
        Assert.Equal($"other from {lab.Client.Address}", await Probes.AskAsync(lab.Client, "tcp", PublicAddress, port));
    }

    /// <summary>"other from 10.99.0.1" → "10.99.0.1".</summary>
    private static string SourceOf(string answer)
    {
        var match = FromLine().Match(answer);
        Assert.True(match.Success, answer);
        return match.Groups[1].Value;
    }

    [GeneratedRegex(@"^other from (\S+)")]
    private static partial Regex FromLine();
}
