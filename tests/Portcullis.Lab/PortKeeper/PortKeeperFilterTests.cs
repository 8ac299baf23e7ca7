using Portcullis.Lab.Gateway;
using Portcullis.Lab.Tunnel;
using static Portcullis.Lab.PortKeeper.PortKeeperLab;

namespace Portcullis.Lab.PortKeeper;

/// <summary>
/// `portcullis connect --forward tcp:8080 --allow-from PREFIX` against `portcullis gateway`: the port keeper maps with
/// a PCP FILTER, so the published port answers the allowed remote and is dark for another address on the same remote
/// host (stock nc, <c>nc -s</c>).
/// </summary>
[Collection(LabCollection.Name)]
public sealed class PortKeeperFilterTests
{
    private const string Stranger = "192.0.2.101";

    [Fact]
    public async Task ForwardAllowFrom_PublishedPortAnswersTheAllowedRemote_DarkForAnother()
    {
        await using var lab = await PortKeeperLab.CreateAsync();
        await lab.StartGatewayAsync();
        await lab.Remote.RunCheckedAsync("ip", "addr", "add", $"{Stranger}/24", "dev", "eth0");
        await using var listener = await Probes.ListenAsync(lab.Client, "tcp", 8080);

        var client = await lab.ConnectAsync("--interface", lab.Interface, "--forward", "tcp:8080", "--allow-from", $"{lab.Remote.Address}",
            "--allow-from", "203.0.113.0/24", "--port-file", lab.PortFile);

        Assert.True(await WaitAsync(() => Task.FromResult(lab.ReadPortFile() is not null), TimeSpan.FromSeconds(20)),
            $"no port published\n{client.Output}\n{lab.Diagnostics()}");
        var port = lab.ReadPortFile()!.Value;
        var ruleset = await lab.RulesetAsync();
        Assert.Contains($"{PublicAddress} . tcp . {port} . {lab.Remote.Address} . 0-65535", ruleset, StringComparison.Ordinal);
        Assert.Contains($"{PublicAddress} . tcp . {port} . 203.0.113.0/24 . 0-65535", ruleset, StringComparison.Ordinal);
        Assert.Equal($"client from {lab.Remote.Address}", await PcpFilterTests.NcFromAsync(lab.Remote, lab.Remote.Address!, port));
        Assert.Null(await PcpFilterTests.NcFromAsync(lab.Remote, Stranger, port));
    }
}
