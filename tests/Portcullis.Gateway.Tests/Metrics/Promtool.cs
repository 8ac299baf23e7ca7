using System.Diagnostics;

namespace Portcullis.Gateway.Tests.Metrics;

/// <summary>Prometheus' own linter (Debian's prometheus package): <c>promtool check metrics</c> on a scrape.</summary>
internal static class Promtool
{
    /// <summary>Runs the check; returns its exit code and everything it said (nothing, when it has no complaint).</summary>
    public static async Task<(int ExitCode, string Output)> CheckMetricsAsync(string exposition)
    {
        var start = new ProcessStartInfo("promtool")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("check");
        start.ArgumentList.Add("metrics");
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start promtool");
        using var output = process.StandardOutput;
        using var error = process.StandardError;
        var stdout = output.ReadToEndAsync();
        var stderr = error.ReadToEndAsync();
        await process.StandardInput.WriteAsync(exposition);
        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, (await stdout + await stderr).Trim());
    }
}
