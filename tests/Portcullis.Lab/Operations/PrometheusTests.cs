using System.Text.Json;
using Portcullis.Lab.Gateway;
using Portcullis.Lab.Harness;
using Portcullis.Lab.Tunnel;
using static Portcullis.Lab.Gateway.GatewayLab;

namespace Portcullis.Lab.Operations;

/// <summary>
/// A real Prometheus (Debian's) scrapes a real gateway's /metrics with the admin token, configured as dist/README.md
/// says: the target is up, what the lab did is in its queries, a counter it samples moves with traffic, and every
/// query of the Grafana dashboard evaluates there.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class PrometheusTests
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Prometheus_ScrapesWithTheToken_SeesTheGatewayAndEvaluatesTheDashboard()
    {
        await using var lab = await MetricsLab.StartAsync();
        await using var listener = await Probes.ListenAsync(lab.ClientA, "tcp", 8080);
        var port = await NatPmpClient.MapCheckedAsync(lab.ClientA, "tcp", 8080);
        Assert.Equal("clienta from 192.0.2.100", await Probes.AskAsync(lab.Remote, "tcp", PublicAddress, port));
        var prometheus = await PrometheusServer.StartAsync(lab.Gateway, lab.Directory, "127.0.0.1:8351", MetricsLab.TokenFile(lab));

        await prometheus.WaitForTargetUpAsync();

        Assert.Equal(1, Single(await prometheus.QueryAsync("""up{job="portcullis"}""")));
        Assert.Equal(2, Single(await prometheus.QueryAsync("portcullis_peers_connected")));
        Assert.Equal(1, Single(await prometheus.QueryAsync("""portcullis_mappings{kind="dynamic"}""")));
        Assert.True(Single(await prometheus.QueryAsync(
            """sum(portcullis_port_requests_total{protocol="natpmp",opcode="map_tcp",result="success"})""")) >= 1);

        // Traffic after a scrape shows in a later one: Prometheus samples the counter, it is no constant.
        var before = Single(await prometheus.QueryAsync("portcullis_received_packets_total"));
        Assert.True(await lab.ClientA.PingAsync(GatewayTunnelAddress, count: 3));
        var after = await prometheus.QueryUntilAsync("portcullis_received_packets_total", v => v >= before + 3, Generous);
        Assert.True(after >= before + 3, $"received packets stayed at {after} (before the pings: {before})");

        // Every dashboard query is valid PromQL against these series ($gateway: all; one gateway carries no such label).
        using var dashboard = JsonDocument.Parse(await File.ReadAllTextAsync(DashboardTests.DashboardPath));
        var evaluated = 0;
        foreach (var expression in DashboardTests.Expressions(dashboard.RootElement).Where(e => !e.StartsWith("label_values(", StringComparison.Ordinal)))
        {
            var promql = expression.Replace("$gateway", ".*", StringComparison.Ordinal).Replace("$__rate_interval", "1m", StringComparison.Ordinal);
            await prometheus.QueryAsync(promql);
            evaluated++;
        }
        Assert.True(evaluated >= 10, $"only {evaluated} dashboard queries");
        var connected = await prometheus.QueryAsync("""sum by (gateway) (portcullis_peers_connected{gateway=~".*"})""");
        Assert.Equal(2, Single(connected));
    }

    private static double Single(List<(Dictionary<string, string> Labels, double Value)> result)
    {
        Assert.True(result.Count == 1, $"{result.Count} series: {string.Join("; ", result.Select(r => string.Join(',', r.Labels) + "=" + r.Value))}");
        return result[0].Value;
    }
}
