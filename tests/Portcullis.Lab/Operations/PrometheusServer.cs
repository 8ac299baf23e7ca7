using System.Text.Json;
using Portcullis.Lab.Harness;

namespace Portcullis.Lab.Operations;

/// <summary>
/// Debian's Prometheus server in a lab namespace, scraping one target every second with a bearer token from a file,
/// as dist/README.md tells an operator to configure it. Its HTTP API is on 127.0.0.1:9090 of that namespace only.
/// </summary>
internal sealed class PrometheusServer
{
    private const string Api = "http://127.0.0.1:9090/api/v1/";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly LabHost _host;

    private PrometheusServer(LabHost host, LabProcess process)
    {
        _host = host;
        Process = process;
    }

    public LabProcess Process { get; }

    /// <summary>Starts it in <paramref name="host"/> with its config and data under <paramref name="directory"/>; returns once it serves its API.</summary>
    public static async Task<PrometheusServer> StartAsync(LabHost host, string directory, string target, string tokenFile)
    {
        var config = Path.Combine(directory, "prometheus.yml");
        await File.WriteAllTextAsync(config, $$"""
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
            scrape_configs:
              - job_name: portcullis
                authorization: { credentials_file: {{tokenFile}} }
                static_configs: [{ targets: ["{{target}}"] }]
            """);
        var check = await ProcessRunner.RunAsync(["promtool", "check", "config", config], RunOptions.Default);
        Assert.True(check.Succeeded, $"promtool check config:\n{check.Stdout}{check.Stderr}");
        var process = host.Start("prometheus", "--config.file=" + config, "--storage.tsdb.path=" + Path.Combine(directory, "tsdb"),
            "--web.listen-address=127.0.0.1:9090", "--log.level=info");
        await Wait.ForStartAsync(process, "prometheus", () => Task.FromResult(process.Output.Contains("Server is ready to receive web requests.", StringComparison.Ordinal)),
            StartTimeout, TimeSpan.FromMilliseconds(100), "did not become ready");
        return new PrometheusServer(host, process);
    }

    /// <summary>
    /// Waits until the one target's last scrape succeeded; throws with its health and last error if it does not within
    /// the start timeout (a refused token or a body Prometheus cannot parse leaves it "down" with the reason).
    /// </summary>
    public async Task WaitForTargetUpAsync()
    {
        var seen = "never scraped";
        var up = await Wait.UntilAsync(async () =>
        {
            if (Process.HasExited)
                throw new LabCommandException($"prometheus exited with {Process.ExitCode}:\n{Process.Output}");
            using var answer = await GetAsync("targets?state=active");
            var targets = answer.RootElement.GetProperty("data").GetProperty("activeTargets");
            if (targets.GetArrayLength() != 1)
                return false;
            var health = targets[0].GetProperty("health").GetString();
            seen = $"{health} ({targets[0].GetProperty("lastError").GetString()})";
            return health == "up";
        }, StartTimeout, TimeSpan.FromMilliseconds(200));
        Assert.True(up, $"Prometheus never scraped the target successfully; last: {seen}\n{Process.Output}");
    }

    /// <summary>An instant query's result vector (metric labels, value), or throws with Prometheus' error.</summary>
    public async Task<List<(Dictionary<string, string> Labels, double Value)>> QueryAsync(string expression)
    {
        using var answer = await GetAsync("query", expression);
        var data = answer.RootElement.GetProperty("data");
        Assert.Equal("vector", data.GetProperty("resultType").GetString());
        var results = new List<(Dictionary<string, string>, double)>();
        foreach (var item in data.GetProperty("result").EnumerateArray())
        {
            var labels = item.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!, StringComparer.Ordinal);
            var value = double.Parse(item.GetProperty("value")[1].GetString()!, System.Globalization.CultureInfo.InvariantCulture);
            results.Add((labels, value));
        }
        return results;
    }

    /// <summary>Polls <paramref name="expression"/> until its single value satisfies <paramref name="condition"/>; the last value seen.</summary>
    public async Task<double?> QueryUntilAsync(string expression, Func<double, bool> condition, TimeSpan timeout)
    {
        double? last = null;
        await Wait.UntilAsync(async () =>
        {
            var result = await QueryAsync(expression);
            last = result.Count == 1 ? result[0].Value : null;
            return last is { } value && condition(value);
        }, timeout, TimeSpan.FromMilliseconds(250));
        return last;
    }

    private async Task<JsonDocument> GetAsync(string path, string? query = null)
    {
        var command = new List<string> { "curl", "-sS", "--max-time", "20", "-G" };
        if (query is not null)
            command.AddRange(["--data-urlencode", "query=" + query]);
        command.Add(Api + path);
        var text = await _host.RunCheckedAsync([.. command]);
        var document = JsonDocument.Parse(text);
        if (document.RootElement.GetProperty("status").GetString() != "success")
        {
            document.Dispose();
            throw new Xunit.Sdk.XunitException($"Prometheus refused {path} {query}: {text}");
        }
        return document;
    }
}
