using System.Text.RegularExpressions;
using Portcullis.Lab.Harness;
using Portcullis.Lab.Tunnel;
using static Portcullis.Lab.Gateway.GatewayLab;

namespace Portcullis.Lab.Gateway;

/// <summary>
/// A static forward from the config ([[peer.forward]]): live exactly while its peer (a stock wireguard-go client) is
/// connected, the same port across a reconnect and across a SIGKILL restart of the gateway, and after that restart
/// no kernel element the store does not justify.
/// </summary>
[Collection(LabCollection.Name)]
public sealed partial class StaticForwardTests
{
    private const int ExternalPort = 30000;
    private const int InternalPort = 8080;
    private const string OtherAddress = "198.51.100.11";
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(45);

    [Fact]
    public async Task StaticForward_ConnectedDarkReconnectedKilledRestarted_LiveOnlyWithItsSessionSamePortNothingStale()
    {
        await using var lab = await GatewayLab.StartAsync(new GatewayLabOptions
        {
            SessionTimeoutSeconds = 8,
            ExtraPeerA = $"""
                [[peer.forward]]
                protocol      = "tcp"
                external_port = {ExternalPort}
                internal_port = {InternalPort}
                """,
        });
        var element = Element(ExternalPort, AddressA, InternalPort);
        await using var listener = await Probes.ListenAsync(lab.ClientA, "tcp", InternalPort);
        // A second public address on the gateway that the forward does not name (as a dedicated address would be).
        await lab.Gateway.RunCheckedAsync("ip", "address", "add", $"{OtherAddress}/24", "dev", "eth0");

        // 1. A is connected: the forward is in the kernel and the remote host reaches A through it — on its address
        //    only: the same port on the gateway's other address does not answer.
        Assert.True(await lab.WaitForRulesetAsync(r => r.Contains(element, StringComparison.Ordinal), Generous),
            $"the static forward never went live\n{lab.Diagnostics()}");
        Assert.Equal("clienta from 192.0.2.100", await AskUntilAsync(lab));
        Assert.Null(await Probes.AskAsync(lab.Remote, "tcp", OtherAddress, ExternalPort));

        // 2. A goes away: once its session times out the forward is dark.
        await lab.TunnelA.SetAsync("peer", lab.GatewayKeys.PublicKey, "remove");
        Assert.True(await lab.WaitForRulesetAsync(r => !r.Contains(element, StringComparison.Ordinal), Generous),
            $"the static forward outlived A's session\n{lab.Diagnostics()}");
        Assert.Null(await Probes.AskAsync(lab.Remote, "tcp", PublicAddress, ExternalPort));

        // 3. A reconnects: the same port answers again.
        await lab.ReconnectAsync(lab.TunnelA);
        Assert.True(await lab.WaitForRulesetAsync(r => r.Contains(element, StringComparison.Ordinal), Generous),
            $"the static forward did not come back with A's session\n{lab.Diagnostics()}");
        Assert.Equal("clienta from 192.0.2.100", await AskUntilAsync(lab));

        // 4. B holds a dynamic lease; then the gateway dies without cleaning up, and a stranger element appears.
        var dynamicPort = await NatPmpClient.MapCheckedAsync(lab.ClientB, "udp", 9090);
        await lab.KillGatewayAsync();
        var crashed = await lab.RulesetAsync();
        Assert.Contains(element, crashed, StringComparison.Ordinal);
        Assert.Contains(Element(dynamicPort, AddressB, 9090), crashed, StringComparison.Ordinal);
        await lab.Gateway.RunCheckedAsync("nft", "add", "element", "ip", "portcullis", "mappings",
            $"{{ {PublicAddress} . tcp . 31000 : 10.99.0.9 . 31000 }}");

        // 5. Restarted: before any session is back, nothing but what a live session justifies is left.
        await lab.StartGatewayAsync();
        var restarted = await lab.RulesetAsync();
        foreach (var target in MappingTargets(restarted))
            Assert.True(target == element, $"unjustified element after the restart: {target}\n{restarted}");

        // 6. A's session comes back (a restarted gateway lost the keys): the forward is back on the same port.
        await lab.ReconnectAsync(lab.TunnelA);
        Assert.True(await lab.WaitForRulesetAsync(r => r.Contains(element, StringComparison.Ordinal), Generous),
            $"the static forward did not come back after the restart\n{lab.Diagnostics()}");
        Assert.Equal("clienta from 192.0.2.100", await AskUntilAsync(lab));
        var final = await lab.RulesetAsync();
        Assert.DoesNotContain($": {AddressB} .", final, StringComparison.Ordinal);
        Assert.DoesNotContain(": 10.99.0.9 .", final, StringComparison.Ordinal);
    }

    // The element is in the kernel a moment before a new connection through it is certain to be tracked as DNATed.
    private static async Task<string?> AskUntilAsync(GatewayLab lab)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        string? answer;
        do
            answer = await Probes.AskAsync(lab.Remote, "tcp", PublicAddress, ExternalPort);
        while (answer is null && DateTime.UtcNow < deadline);
        return answer;
    }

    /// <summary>Every "PORT : TUNNEL_ADDRESS . PORT" element in the ruleset (DESIGN §6).</summary>
    private static IEnumerable<string> MappingTargets(string ruleset)
    {
        foreach (Match match in MappingElement().Matches(ruleset))
            yield return match.Value;
    }

    [GeneratedRegex(@"\d+ : 10\.99\.\d+\.\d+ \. \d+")]
    private static partial Regex MappingElement();
}
