using System.Text.RegularExpressions;
using Portcullis.Lab.Harness;
using Portcullis.Lab.Tunnel;
using static Portcullis.Lab.Gateway.GatewayLab;

namespace Portcullis.Lab.Gateway;

/// <summary>
/// A dedicated public address end to end: peer A has <c>dedicated_address = "198.51.100.11"</c> and the policy
/// forwards every port of it; peer B shares 198.51.100.10. Both are stock wireguard-go clients. The operator's part —
/// the address on the gateway's public interface — is done by the test, as the README tells an operator to.
/// </summary>
[Collection(LabCollection.Name)]
public sealed partial class DedicatedAddressTests
{
    private const string DedicatedAddress = "198.51.100.11";
    private const string RemoteAddress = "192.0.2.100";
    private const int RemotePort = 9000;
    private const int AnyPort = 4711;
    private const int BlockedPort = 445; // in the default blocked ports (SMB)
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task DedicatedPeer_EgressMappingsEveryPortHairpin_OnItsOwnAddressAndNobodyElsesTrafficThere()
    {
        await using var lab = await GatewayLab.StartAsync(new GatewayLabOptions
        {
            ExtraForwarding = "forward_all_dedicated_ports = true",
            ExtraPeerA = $"dedicated_address = \"{DedicatedAddress}\"",
        });
        // The operator routes the dedicated address to the gateway: here, a second address on its public interface.
        await lab.Gateway.RunCheckedAsync("ip", "address", "add", $"{DedicatedAddress}/24", "dev", "eth0");
        await using var remote = await Probes.ListenAsync(lab.Remote, "tcp", RemotePort);

        // 1. Egress: the remote host sees A from the dedicated address, B from the shared one.
        Assert.Equal($"remote from {DedicatedAddress}", await Probes.AskAsync(lab.ClientA, "tcp", RemoteAddress, RemotePort));
        Assert.Equal($"remote from {PublicAddress}", await Probes.AskAsync(lab.ClientB, "tcp", RemoteAddress, RemotePort));

        // 2. A dynamic mapping of A (natpmpc) is made on A's address, and NAT-PMP tells A that address.
        await using var mapped = await Probes.ListenAsync(lab.ClientA, "tcp", 8080);
        var outcome = await NatPmpClient.MapAsync(lab.ClientA, "tcp", 0, 8080, 600);
        Assert.True(outcome.Mapped, outcome.ToString());
        var port = outcome.PublicPort!.Value;
        Assert.Contains($"Public IP address : {DedicatedAddress}", outcome.Result.Stdout, StringComparison.Ordinal);
        Assert.Contains($"{DedicatedAddress} . tcp . {Element(port, AddressA, 8080)}", await lab.RulesetAsync(), StringComparison.Ordinal);
        Assert.Equal("clienta from 192.0.2.100", await Probes.AskAsync(lab.Remote, "tcp", DedicatedAddress, port));
        Assert.Null(await Probes.AskAsync(lab.Remote, "tcp", PublicAddress, port));

        // 3. Every port of A's address reaches A, minus blocked ports; the same port on the shared address is dark.
        await using var any = await Probes.ListenAsync(lab.ClientA, "tcp", AnyPort);
        await using var anyUdp = await Probes.ListenAsync(lab.ClientA, "udp", AnyPort);
        await using var blocked = await Probes.ListenAsync(lab.ClientA, "tcp", BlockedPort);
        Assert.Equal("clienta from 192.0.2.100", await Probes.AskAsync(lab.Remote, "tcp", DedicatedAddress, AnyPort));
        Assert.Equal("clienta from 192.0.2.100 ping", await Probes.AskAsync(lab.Remote, "udp", DedicatedAddress, AnyPort));
        Assert.Null(await Probes.AskAsync(lab.Remote, "tcp", DedicatedAddress, BlockedPort));
        Assert.Null(await Probes.AskAsync(lab.Remote, "tcp", PublicAddress, AnyPort));

        // 4. Hairpin: B reaches A's address from inside the tunnel, as it would the shared one.
        Assert.StartsWith("clienta from ", await Probes.AskAsync(lab.ClientB, "tcp", DedicatedAddress, AnyPort), StringComparison.Ordinal);

        // 5. No one else's traffic ever used A's address: every tracked flow touching it is A's.
        var flows = await lab.Gateway.RunCheckedAsync("conntrack", "-L", "-f", "ipv4");
        var touching = 0;
        foreach (var line in flows.Split('\n'))
        {
            var tuple = Tuple().Match(line);
            if (!tuple.Success || !line.Contains(DedicatedAddress, StringComparison.Ordinal))
                continue;
            touching++;
            // Outbound from A: original source is A. Inbound to A: the reply comes from A (the DNAT target).
            var (originalSource, replySource) = (tuple.Groups[1].Value, tuple.Groups[3].Value);
            Assert.True(originalSource == AddressA || replySource == AddressA, $"a flow on {DedicatedAddress} is not A's: {line}");
        }
        Assert.True(touching >= 3, $"expected A's flows on {DedicatedAddress} in conntrack:\n{flows}");

        // 6. A talks to the gateway on its own address (the Endpoint a client config for A names): the gateway's
        //    WireGuard port there stays the gateway's, every-port forwarding notwithstanding.
        await lab.TunnelA.SetAsync("peer", lab.GatewayKeys.PublicKey, "endpoint", $"{DedicatedAddress}:{ListenPort}");
        Assert.True(await lab.ClientA.PingUntilAsync(GatewayTunnelAddress, TimeSpan.FromSeconds(10)),
            $"A lost the gateway when it used {DedicatedAddress}:{ListenPort}\n{lab.Diagnostics()}");
        // Its flow to that port is the gateway's own (reply from the address itself), not DNATed to A.
        Assert.Contains($"src={DedicatedAddress} dst=203.0.113.21 sport={ListenPort}",
            await lab.Gateway.RunCheckedAsync("conntrack", "-L", "-p", "udp", "--orig-dst", DedicatedAddress), StringComparison.Ordinal);

        // 7. A's session ends: every-port forwarding goes with it (DESIGN §3.1), its egress route stays for its return.
        await lab.TunnelA.SetAsync("peer", lab.GatewayKeys.PublicKey, "remove");
        Assert.True(await lab.WaitForRulesetAsync(r => !r.Contains($"{DedicatedAddress} : {AddressA}", StringComparison.Ordinal), Generous),
            $"every-port forwarding outlived A's session\n{lab.Diagnostics()}");
        Assert.Null(await Probes.AskAsync(lab.Remote, "tcp", DedicatedAddress, AnyPort));
        Assert.Contains($"{AddressA} : {DedicatedAddress}", await lab.RulesetAsync(), StringComparison.Ordinal);
    }

    // conntrack -L: "tcp 6 117 TIME_WAIT src=A dst=B sport=… dport=… src=C dst=D …" — original tuple, then reply tuple.
    [GeneratedRegex(@"src=(\S+) dst=(\S+) .*?src=(\S+) dst=(\S+)")]
    private static partial Regex Tuple();
}
