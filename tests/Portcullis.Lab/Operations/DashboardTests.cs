using System.Text.Json;
using System.Text.RegularExpressions;
using Portcullis.Lab.Harness;
using Portcullis.Lab.Tunnel;

namespace Portcullis.Lab.Operations;

/// <summary>dist/grafana/portcullis-gateway.json queries only what a live gateway's /metrics has.</summary>
[Collection(LabCollection.Name)]
public sealed partial class DashboardTests
{
    [Fact]
    public async Task GrafanaDashboard_EveryQueriedMetric_ExistsInALiveScrape()
    {
        using var dashboard = JsonDocument.Parse(await File.ReadAllTextAsync(DashboardPath));
        var queried = new SortedSet<string>(StringComparer.Ordinal);
        var expressions = 0;
        foreach (var expression in Expressions(dashboard.RootElement))
        {
            expressions++;
            foreach (Match name in MetricName().Matches(expression))
                queried.Add(name.Value);
        }
        Assert.True(expressions >= 10 && queried.Count >= 15, $"the dashboard queries too little to be one: {expressions} expressions, {queried.Count} metrics");
        await using var lab = await MetricsLab.StartAsync();

        var declared = Exposition.DeclaredNames(await MetricsLab.ScrapeTextAsync(lab));

        var missing = queried.Where(name => !declared.Contains(name)).ToList();
        Assert.True(missing.Count == 0, $"the dashboard queries metrics the gateway does not export: {string.Join(", ", missing)}");
    }

    public static string DashboardPath => Path.Combine(LabBinaries.RepositoryRoot, "dist", "grafana", "portcullis-gateway.json");

    /// <summary>Every "expr" (panel targets) and "query"/"definition" (template variables) string in the document.</summary>
    internal static IEnumerable<string> Expressions(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (property.Name is "expr" or "definition" && property.Value.ValueKind == JsonValueKind.String)
                        yield return property.Value.GetString()!;
                    else if (property.Name == "query" && property.Value.ValueKind == JsonValueKind.Object
                        && property.Value.TryGetProperty("query", out var query) && query.ValueKind == JsonValueKind.String)
                        yield return query.GetString()!;
                    foreach (var inner in Expressions(property.Value))
                        yield return inner;
                }
                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    foreach (var inner in Expressions(item))
                        yield return inner;
                }
                break;
        }
    }

    [GeneratedRegex(@"\bportcullis_[a-z0-9_]+")]
    private static partial Regex MetricName();
}
