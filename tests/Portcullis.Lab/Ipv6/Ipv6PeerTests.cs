using System.Globalization;
using Portcullis.Lab.Gateway;
using Portcullis.Lab.Harness;
using Portcullis.Lab.Tunnel;

namespace Portcullis.Lab.Ipv6;

/// <summary>
/// PCP PEER (RFC 6887 §12) from a peer's IPv6 tunnel address, end to end: a stock WireGuard client (wireguard-go + wg,
/// ::/0) sends an RFC-built PEER (Gateway/PcpClient.cs) to the gateway's IPv6 tunnel address, then stock <c>nc -p</c>
/// connects from that internal port to the remote host, where stock <c>nc -l -v</c> reports where the connection
/// came from. With NAT66 that is exactly the answered public IPv6 address and port (and a flow from another port is
/// not); with a routed prefix nothing translates, and the answer and the flow both carry the peer's own /128 and port.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class Ipv6PeerTests
{
    private const int Tcp = 6;
    private const int InternalPort = 40123;
    private const int RemotePort = 8080;
    private const string Nonce = "c1c2c3c4c5c6c7c8c9cacbcc";

    [Fact]
    public async Task RfcPcpPeer_Nat66_FlowFromTheInternalPortLeavesFromTheAnsweredIpv6AddressAndPort()
    {
        await using var lab = await Ipv6Lab.StartAsync(routed: false);
        var remote = lab.Remote.Address6!;

        var answer = await PcpClient.PeerAsync(lab.ClientA, lab.GatewayTunnelAddress6, lab.AddressA6, Tcp, InternalPort, 600, remote, RemotePort, Nonce);

        Assert.True(answer.Result == PcpClient.Success, $"{answer}\n{lab.Diagnostics()}");
        Assert.Equal((lab.GatewayTunnelAddress6, 80, 600, lab.PublicAddress6, true),
            (answer.From, answer.Size, answer.Lifetime, answer.ExternalAddress, answer.EchoedFilters));
        Assert.InRange(answer.ExternalPort, 20000, 59999);
        var ruleset = await lab.Gateway.RunCheckedAsync("nft", "list", "table", "ip6", "portcullis");
        Assert.Contains($"{lab.AddressA6} . tcp . {InternalPort} . {remote} . {RemotePort}", ruleset, StringComparison.Ordinal);
        Assert.Equal($"{lab.PublicAddress6} {answer.ExternalPort}", await ConnectionSeenAsync(lab, InternalPort));
        // Another source port is no PEER flow: it leaves from the public address, from another port.
        var other = await ConnectionSeenAsync(lab, InternalPort + 1);
        Assert.StartsWith($"{lab.PublicAddress6} ", other, StringComparison.Ordinal);
        Assert.NotEqual($"{lab.PublicAddress6} {answer.ExternalPort}", other);

        // Lifetime 0 (same nonce) deletes it: the element is gone.
        var deleted = await PcpClient.PeerAsync(lab.ClientA, lab.GatewayTunnelAddress6, lab.AddressA6, Tcp, InternalPort, 0, remote, RemotePort, Nonce);
        Assert.Equal((PcpClient.Success, 0), (deleted.Result, deleted.Lifetime));
        Assert.DoesNotContain($". {remote} . {RemotePort} ", await lab.Gateway.RunCheckedAsync("nft", "list", "table", "ip6", "portcullis"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RfcPcpPeer_RoutedPrefix_AnsweredWithThePeersOwnAddressAndPortAndTheFlowLeavesFromThem()
    {
        await using var lab = await Ipv6Lab.StartAsync(routed: true);
        var remote = lab.Remote.Address6!;

        var answer = await PcpClient.PeerAsync(lab.ClientA, lab.GatewayTunnelAddress6, lab.AddressA6, Tcp, InternalPort, 600, remote, RemotePort, Nonce);

        Assert.True(answer.Result == PcpClient.Success, $"{answer}\n{lab.Diagnostics()}");
        Assert.Equal((80, 600, lab.AddressA6, InternalPort, true),
            (answer.Size, answer.Lifetime, answer.ExternalAddress, answer.ExternalPort, answer.EchoedFilters));
        Assert.Equal($"{lab.AddressA6} {InternalPort}", await ConnectionSeenAsync(lab, InternalPort));
    }

    /// <summary>
    /// Stock <c>nc -l -v</c> on the remote host's IPv6 address, stock <c>nc -p</c> from client A's
    /// <paramref name="sourcePort"/>: "ADDRESS PORT" the listener reported the connection from.
    /// </summary>
    private static async Task<string> ConnectionSeenAsync(Ipv6Lab lab, int sourcePort)
    {
        var remote = lab.Remote.Address6!;
        await using var listener = lab.Remote.Start("nc", "-6", "-l", "-v", "-n", remote, Invariant(RemotePort));
        await WaitForOutputAsync(listener, "Listening on");
        var connect = await lab.ClientA.RunAsync(
            ["nc", "-6", "-n", "-w", "2", "-s", lab.AddressA6, "-p", Invariant(sourcePort), remote, Invariant(RemotePort)],
            RunOptions.Default with { Timeout = TimeSpan.FromSeconds(15) });
        Assert.True(connect.Succeeded, $"nc from the client failed: {connect.Stderr}\n{lab.Diagnostics()}");
        var line = await WaitForOutputAsync(listener, "Connection received on ");
        return line["Connection received on ".Length..].Trim();
    }

    private static async Task<string> WaitForOutputAsync(LabProcess process, string prefix)
    {
        string? Line() => process.Output.Split('\n').FirstOrDefault(line => line.StartsWith(prefix, StringComparison.Ordinal));
        if (!await Wait.UntilAsync(() => Task.FromResult(Line() is not null || process.HasExited), TimeSpan.FromSeconds(15), TimeSpan.FromMilliseconds(20)))
            throw new LabCommandException($"no \"{prefix}\" line from {process.Name} within 15 s: {process.Output}");
        return Line() ?? throw new LabCommandException($"{process.Name} exited without a \"{prefix}\" line: {process.Output}");
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}
