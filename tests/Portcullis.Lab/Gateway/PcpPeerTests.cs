using Portcullis.Lab.Harness;
using Portcullis.Lab.Tunnel;
using static Portcullis.Lab.Gateway.GatewayLab;

namespace Portcullis.Lab.Gateway;

/// <summary>
/// PCP PEER (RFC 6887 §12) end to end: a client behind stock wireguard-go + wg asks for an explicit outbound mapping
/// (a request built byte by byte from the RFC), then stock <c>nc -p</c> connects from that internal port to the remote
/// host, where stock <c>nc -l -v</c> reports the connection coming from exactly the answered address:port.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class PcpPeerTests
{
    private const int Tcp = 6;
    private const int InternalPort = 40123;
    private const int RemotePort = 8080;
    private const string Nonce = "b1b2b3b4b5b6b7b8b9babbbc";

    [Fact]
    public async Task PcpPeer_NcFromTheInternalPort_RemoteSeesTheAnsweredAddressAndPort()
    {
        await using var lab = await GatewayLab.StartAsync();
        var remote = lab.Remote.Address!;

        var answer = await PcpClient.PeerAsync(lab.ClientA, AddressA, Tcp, InternalPort, 600, remote, RemotePort, Nonce);

        Assert.Equal((PcpClient.Success, 80, 600, PublicAddress, true),
            (answer.Result, answer.Size, answer.Lifetime, answer.ExternalAddress, answer.EchoedFilters));
        Assert.Contains($"{AddressA} . tcp . {InternalPort} . {remote} . {RemotePort}", await lab.RulesetAsync(), StringComparison.Ordinal);
        Assert.Equal($"{PublicAddress} {answer.ExternalPort}", await ConnectionSeenAsync(lab, InternalPort));

        // A repeated PEER refreshes and keeps the port; lifetime 0 deletes it, and the same flow is masqueraded again.
        var again = await PcpClient.PeerAsync(lab.ClientA, AddressA, Tcp, InternalPort, 600, remote, RemotePort, Nonce);
        Assert.Equal((PcpClient.Success, answer.ExternalPort), (again.Result, again.ExternalPort));
        var deleted = await PcpClient.PeerAsync(lab.ClientA, AddressA, Tcp, InternalPort, 0, remote, RemotePort, Nonce);
        Assert.Equal((PcpClient.Success, 0), (deleted.Result, deleted.Lifetime));
        Assert.DoesNotContain($". {remote} . {RemotePort} ", await lab.RulesetAsync(), StringComparison.Ordinal);
        Assert.NotEqual($"{PublicAddress} {answer.ExternalPort}", await ConnectionSeenAsync(lab, InternalPort + 1));
    }

    /// <summary>
    /// Stock <c>nc -l -v</c> on the remote host, stock <c>nc -p</c> from client A's <paramref name="sourcePort"/>:
    /// "ADDRESS PORT" the listener reported the connection from.
    /// </summary>
    private static async Task<string> ConnectionSeenAsync(GatewayLab lab, int sourcePort)
    {
        await using var listener = lab.Remote.Start("nc", "-l", "-v", "-n", "0.0.0.0", RemotePort.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await WaitForOutputAsync(listener, "Listening on");
        var connect = await lab.ClientA.RunAsync(
            ["nc", "-n", "-w", "2", "-p", sourcePort.ToString(System.Globalization.CultureInfo.InvariantCulture), lab.Remote.Address!,
                RemotePort.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            RunOptions.Default with { Timeout = TimeSpan.FromSeconds(15) });
        Assert.True(connect.Succeeded, $"nc from the client failed: {connect.Stderr}");
        var line = await WaitForOutputAsync(listener, "Connection received on ");
        return line["Connection received on ".Length..].Trim();
    }

    /// <summary>The first line of <paramref name="process"/>'s output that starts with <paramref name="prefix"/>, once printed.</summary>
    private static async Task<string> WaitForOutputAsync(LabProcess process, string prefix)
    {
        string? Line() => process.Output.Split('\n').FirstOrDefault(line => line.StartsWith(prefix, StringComparison.Ordinal));
        if (!await Wait.UntilAsync(() => Task.FromResult(Line() is not null || process.HasExited), TimeSpan.FromSeconds(15), TimeSpan.FromMilliseconds(20)))
            throw new LabCommandException($"no \"{prefix}\" line from {process.Name} within 15 s: {process.Output}");
        return Line() ?? throw new LabCommandException($"{process.Name} exited without a \"{prefix}\" line: {process.Output}");
    }
}
