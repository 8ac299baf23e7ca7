using Portcullis.Lab.Gateway;
using Portcullis.Lab.Harness;

namespace Portcullis.Lab.Operations;

/// <summary>DESIGN §5's gateway lab with [admin] on 127.0.0.1:8351 in the gateway's namespace: /metrics, health.</summary>
internal static class MetricsLab
{
    public static Task<GatewayLab> StartAsync(bool perPeer = false) => GatewayLab.StartAsync(new GatewayLabOptions
    {
        ExtraTables = $"""
            [admin]
            listen           = "127.0.0.1:8351"
            token_file       = "admin.token"
            metrics_per_peer = {(perPeer ? "true" : "false")}
            """,
    });

    public static string TokenFile(GatewayLab lab) => Path.Combine(lab.Directory, "admin.token");

    /// <summary>Scrapes /metrics with the token; asserts 200 and that promtool has nothing to say about it.</summary>
    public static async Task<List<Sample>> ScrapeAsync(GatewayLab lab) => Exposition.Parse(await ScrapeTextAsync(lab));

    /// <summary>As <see cref="ScrapeAsync"/>, the exposition as it came.</summary>
    public static async Task<string> ScrapeTextAsync(GatewayLab lab)
    {
        var (status, body) = await AdminHttp.GetAsync(lab.Gateway, "/metrics", TokenFile(lab));
        Assert.True(status == 200, $"/metrics answered {status}: {body}");
        var check = await ProcessRunner.RunAsync(["promtool", "check", "metrics"], RunOptions.Default, body);
        Assert.True(check.Succeeded && (check.Stdout + check.Stderr).Trim().Length == 0,
            $"promtool check metrics complained:\n{check.Stdout}{check.Stderr}\n--- scrape ---\n{body}");
        return body;
    }
}
