using Portcullis.Lab.Harness;
using Portcullis.Lab.Tunnel;
using static Portcullis.Lab.Gateway.GatewayLab;

namespace Portcullis.Lab.Gateway;

/// <summary>
/// PCP FILTER (RFC 6887 §13.3) end to end: a MAP with a FILTER option (built byte by byte from the RFC) makes a mapping
/// that answers the allowed remote and is dark for another address on the same remote host; stock nc connects from
/// each (<c>nc -s</c>). Prefix length 0 removes the filters again.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class PcpFilterTests
{
    private const int Tcp = 6;
    private const string Nonce = "a1a2a3a4a5a6a7a8a9aaabac";
    private const string Stranger = "192.0.2.101";

    [Fact]
    public async Task PcpMapWithFilter_AllowedRemoteAnswered_OtherRemoteDark_PrefixZeroOpensItAgain()
    {
        await using var lab = await GatewayLab.StartAsync();
        await lab.Remote.RunCheckedAsync("ip", "addr", "add", $"{Stranger}/24", "dev", "eth0");
        await using var listener = await Probes.ListenAsync(lab.ClientA, "tcp", 8080);

        var answer = await PcpClient.MapAsync(lab.ClientA, AddressA, Tcp, 8080, 600, Nonce, $"{lab.Remote.Address}/32/0");

        Assert.Equal(PcpClient.Success, answer.Result);
        Assert.Equal(60 + 24, answer.Size);
        Assert.True(answer.EchoedFilters, "the FILTER option was not echoed as sent");
        Assert.Contains($"{PublicAddress} . tcp . {answer.ExternalPort} . {lab.Remote.Address} . 0-65535", await lab.RulesetAsync(), StringComparison.Ordinal);
        Assert.Equal($"clienta from {lab.Remote.Address}", await NcAsync(lab, lab.Remote.Address!, answer.ExternalPort));
        Assert.Null(await NcAsync(lab, Stranger, answer.ExternalPort));

        // A refresh with prefix length 0 removes every filter: the same mapping, now open to anyone.
        var cleared = await PcpClient.MapAsync(lab.ClientA, AddressA, Tcp, 8080, 600, Nonce, "0.0.0.0/-96/0");

        Assert.Equal((PcpClient.Success, answer.ExternalPort), (cleared.Result, cleared.ExternalPort));
        Assert.Equal($"clienta from {Stranger}", await NcAsync(lab, Stranger, answer.ExternalPort));
        Assert.DoesNotContain($". {lab.Remote.Address} . 0-65535", await lab.RulesetAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PcpMapWithFilter_DeletedMapping_TakesItsFilterElementsAlong()
    {
        await using var lab = await GatewayLab.StartAsync();
        var answer = await PcpClient.MapAsync(lab.ClientA, AddressA, Tcp, 8080, 600, Nonce, "198.51.100.0/24/0", "203.0.113.7/32/443");
        Assert.Equal((PcpClient.Success, 60 + 48, true), (answer.Result, answer.Size, answer.EchoedFilters));

        var deleted = await PcpClient.MapAsync(lab.ClientA, AddressA, Tcp, 8080, 0, Nonce);

        Assert.Equal(PcpClient.Success, deleted.Result);
        var ruleset = await lab.RulesetAsync();
        Assert.DoesNotContain($"tcp . {answer.ExternalPort}", ruleset, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FilteredMapping_GatewayKilledAndRestarted_ReconciliationRemovesItsFilterElementsToo()
    {
        await using var lab = await GatewayLab.StartAsync();
        var answer = await PcpClient.MapAsync(lab.ClientA, AddressA, Tcp, 8080, 600, Nonce, "192.0.2.0/24/0");
        Assert.Equal(PcpClient.Success, answer.Result);
        Assert.Contains($"tcp . {answer.ExternalPort} . 192.0.2.0/24 . 0-65535", await lab.RulesetAsync(), StringComparison.Ordinal);

        // SIGKILL: the kernel keeps everything; the new process lists it (filters included) and removes what it did not grant.
        await lab.KillGatewayAsync();
        await lab.StartGatewayAsync();

        Assert.DoesNotContain($"tcp . {answer.ExternalPort}", await lab.RulesetAsync(), StringComparison.Ordinal);
    }

    /// <summary>Stock nc from <paramref name="source"/> on the remote host: the listener's greeting, or null when nothing answered.</summary>
    internal static async Task<string?> NcAsync(GatewayLab lab, string source, int port) =>
        await NcFromAsync(lab.Remote, source, port);

    internal static async Task<string?> NcFromAsync(LabHost remote, string source, int port)
    {
        var result = await remote.RunAsync(
            ["nc", "-n", "-d", "-w", "2", "-s", source, PublicAddress, port.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            RunOptions.Default with { Timeout = TimeSpan.FromSeconds(15) });
        var text = result.Stdout.Trim();
        return result.Succeeded && text.Length > 0 ? text : null;
    }
}
