using System.Text.Json;
using Portcullis.Lab.Admin;
using Portcullis.Lab.Gateway;
using Portcullis.Lab.Harness;
using Portcullis.Lab.Tunnel;

namespace Portcullis.Lab.Operations;

/// <summary>
/// "Is my port really open?" with our client and our gateway: `portcullis connect --forward tcp:8080` reports each
/// of the three outcomes the gateway's probe and the client's own sockets tell apart — a listener answers
/// (reachable), nothing listens (the client's kernel refuses), and the client's own firewall drops the probe — in
/// its state file and in `portcullis status`; the operator's check over the admin API agrees.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class ReachabilityTests
{
    private const int InternalPort = 8080;
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Connect_ReachableNothingListeningBlocked_EachReportedInStatusAndTheAdminCheckAgrees()
    {
        await using var lab = await AdminLab.StartAsync();
        var added = await lab.CliAsync("peer", "add", "laptop");
        Assert.True(added.Succeeded, added.ToString());
        await WgTools.WritePrivateFileAsync(lab.ClientConfig, added.Stdout);

        // 1. A listener on the internal port: reachable, and the operator's check says so too.
        await using (var listener = await Probes.ListenAsync(lab.Client, "tcp", InternalPort))
        {
            var verdict = await ConnectAndReadVerdictAsync(lab, "--metrics", "127.0.0.1:9587");
            Assert.Equal("reachable", verdict);
            var status = await lab.Client.RunCheckedAsync(LabBinaries.Portcullis, "status", "--interface", lab.Interface);
            Assert.Contains("reachable from the internet: reachable", status, StringComparison.Ordinal);
            using (var json = JsonDocument.Parse(await lab.Client.RunCheckedAsync(LabBinaries.Portcullis, "status", "--interface", lab.Interface, "--json")))
            {
                var client = json.RootElement.GetProperty("clients")[0];
                Assert.True(client.GetProperty("up").GetBoolean());
                Assert.True(client.GetProperty("reachable").GetBoolean());
                Assert.True(client.GetProperty("received_bytes").GetInt64() > 0);
            }
            var metrics = await lab.Client.RunCheckedAsync("curl", "-sS", "--max-time", "10", "http://127.0.0.1:9587/metrics");
            Assert.Contains($"portcullis_client_port_reachable{{interface=\"{lab.Interface}\"}} 1", metrics, StringComparison.Ordinal);
            var promtool = await ProcessRunner.RunAsync(["promtool", "check", "metrics"], RunOptions.Default, metrics);
            Assert.True(promtool.Succeeded && (promtool.Stdout + promtool.Stderr).Trim().Length == 0,
                $"promtool check metrics complained about the client's:\n{promtool.Stdout}{promtool.Stderr}\n{metrics}");
            var port = PublicPort(lab);
            var check = await lab.Gateway.RunCheckedAsync("curl", "-sS", "-X", "POST", "-H", "@" + await HeaderFileAsync(lab),
                $"{AdminHttp.Base}/api/v1/mappings/{AdminLab.PublicAddress}/tcp/{port}/check");
            using (var answer = JsonDocument.Parse(check))
                Assert.Equal("reachable", answer.RootElement.GetProperty("result").GetString());
            await DisconnectAsync(lab);
        }

        // 2. Nothing listens: the client's kernel answers the probe with a reset.
        Assert.Equal($"nothing listening on internal port {InternalPort}", await ConnectAndReadVerdictAsync(lab));
        await DisconnectAsync(lab);

        // 3. A listener, but this host's own firewall drops what comes in on the tunnel for it.
        await using (var listener = await Probes.ListenAsync(lab.Client, "tcp", InternalPort))
        {
            await lab.Client.RunCheckedAsync("nft",
                $"add table inet pclabblock; add chain inet pclabblock input {{ type filter hook input priority filter; }}; add rule inet pclabblock input tcp dport {InternalPort} drop");
            Assert.Equal("blocked on this host", await ConnectAndReadVerdictAsync(lab));
        }
    }

    private static async Task<string> ConnectAndReadVerdictAsync(AdminLab lab, params string[] options)
    {
        await lab.ConnectAsync(["--forward", $"tcp:{InternalPort}", .. options]);
        string? verdict = null;
        var statePath = $"/run/portcullis/{lab.Interface}.state";
        if (!await Wait.UntilAsync(async () => (verdict = Field(await File.ReadAllTextAsync(statePath), "reachability")) is { Length: > 0 },
            Generous, TimeSpan.FromMilliseconds(200)))
            Assert.Fail($"no reachability verdict in {statePath}\n{lab.Diagnostics()}");
        return verdict!;
    }

    private static async Task DisconnectAsync(AdminLab lab)
    {
        var result = await lab.Client.RunAsync([LabBinaries.Portcullis, "disconnect", "--interface", lab.Interface], RunOptions.Default with { Timeout = TimeSpan.FromSeconds(30) });
        Assert.True(result.Succeeded, result.ToString());
    }

    private static int PublicPort(AdminLab lab) =>
        int.Parse(Field(File.ReadAllText($"/run/portcullis/{lab.Interface}.state"), "forwarded_port")!, System.Globalization.CultureInfo.InvariantCulture);

    private static string? Field(string state, string key) =>
        state.Split('\n').FirstOrDefault(l => l.StartsWith(key + "=", StringComparison.Ordinal))?[(key.Length + 1)..];

    private static async Task<string> HeaderFileAsync(AdminLab lab)
    {
        var path = Path.Combine(lab.Directory, "auth.header");
        await WgTools.WritePrivateFileAsync(path, $"Authorization: Bearer {(await File.ReadAllTextAsync(lab.TokenFile)).Trim()}\n");
        return path;
    }
}
