using System.Net;
using System.Runtime.Versioning;
using Portcullis.Gateway.Admin.Http;
using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Metrics;
using Portcullis.Gateway.Tests.Admin;
using Portcullis.Gateway.Tests.Forwarding;
using Portcullis.Gateway.Tests.Health;
using Portcullis.Gateway.Tests.Store;

namespace Portcullis.Gateway.Tests.Metrics;

/// <summary>
/// /metrics on a real Kestrel (the admin server) scraped over HTTP, the scrape checked by promtool; the observed
/// families fed by the real decorators around a real SQLite store and the forwarding-table double.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class MetricsEndpointTests
{
    [Fact]
    public async Task Scrape_WithToken_PromtoolAcceptsItAndEverySeriesNamesTheGateway()
    {
        var metrics = new GatewayMetrics(new GatewayMetricsOptions { GatewayName = "ams-1" });
        using var fixture = new StoreFixture();
        await using var real = await fixture.OpenAsync();
        var store = MeteredStore.Wrap(real, metrics);
        await store.ListPeersAsync();
        await store.GetPolicyAsync();
        var floors = MeteredStore.WrapFloors(real, metrics);
        await floors.RaiseReplayFloorsAsync([new("key", new byte[12])]);
        await floors.ListReplayFloorsAsync();
        var failing = MeteredStore.Wrap(GatewayReadinessTests.UnreachableStore.Create(), metrics);
        await Assert.ThrowsAsync<Portcullis.Gateway.Store.StoreException>(() => failing.GetPolicyAsync());
        var inner = new InMemoryForwardingTable { FailNext = 1 };
        var table = new MeteredForwardingTable(inner, metrics);
        Assert.Throws<Portcullis.Gateway.Forwarding.ForwardingTableException>(() => table.Update([], []));
        table.Update([], []);
        metrics.CountReachability("tcp", "reachable");
        await using var api = await AdminApi.StartAsync(new AdminFeatures { Metrics = metrics });

        var response = await api.Client.GetAsync("/metrics");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        var (exitCode, complaints) = await Promtool.CheckMetricsAsync(text);
        Assert.True(exitCode == 0 && complaints.Length == 0, $"promtool: {complaints}\n{text}");
        var samples = Samples(text);
        Assert.NotEmpty(samples);
        Assert.All(samples, line => Assert.Contains("gateway=\"ams-1\"", line, StringComparison.Ordinal));
        Assert.Contains(samples, l => l.StartsWith("portcullis_store_operation_duration_seconds_count{", StringComparison.Ordinal)
            && l.Contains("operation=\"list_peers\"", StringComparison.Ordinal) && l.EndsWith(" 1", StringComparison.Ordinal));
        Assert.Contains(samples, l => l.StartsWith("portcullis_store_operation_duration_seconds_count{", StringComparison.Ordinal)
            && l.Contains("operation=\"raise_replay_floors\"", StringComparison.Ordinal) && l.EndsWith(" 1", StringComparison.Ordinal));
        Assert.Contains(samples, l => l.StartsWith("portcullis_store_errors_total{", StringComparison.Ordinal)
            && l.Contains("operation=\"get_policy\"", StringComparison.Ordinal) && l.EndsWith(" 1", StringComparison.Ordinal));
        Assert.Contains(samples, l => l.StartsWith("portcullis_kernel_transaction_duration_seconds_count{", StringComparison.Ordinal)
            && l.Contains("operation=\"update\"", StringComparison.Ordinal) && l.EndsWith(" 2", StringComparison.Ordinal));
        Assert.Contains(samples, l => l.StartsWith("portcullis_kernel_transaction_failures_total{", StringComparison.Ordinal)
            && l.EndsWith(" 1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Scrape_WithoutGatewayName_HasNoGatewayLabel()
    {
        var metrics = new GatewayMetrics(new GatewayMetricsOptions());
        metrics.CountReachability("udp", "blocked");
        await using var api = await AdminApi.StartAsync(new AdminFeatures { Metrics = metrics });

        var text = await api.Client.GetStringAsync("/metrics");

        Assert.Contains("portcullis_reachability_checks_total{protocol=\"udp\",result=\"blocked\"} 1", text, StringComparison.Ordinal);
        Assert.DoesNotContain("gateway=", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Scrape_NoToken_Returns401AndNoMetric()
    {
        var metrics = new GatewayMetrics(new GatewayMetricsOptions());
        metrics.CountReachability("tcp", "reachable");
        await using var api = await AdminApi.StartAsync(new AdminFeatures { Metrics = metrics });

        var response = await api.Anonymous.GetAsync("/metrics");

        await AdminApi.ProblemAsync(response, HttpStatusCode.Unauthorized);
    }

    /// <summary>The sample lines of an exposition (not # HELP / # TYPE).</summary>
    internal static List<string> Samples(string exposition) =>
        [.. exposition.Split('\n').Where(l => l.Length > 0 && l[0] != '#')];
}
