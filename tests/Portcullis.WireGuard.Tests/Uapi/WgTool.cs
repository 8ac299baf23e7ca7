using System.Diagnostics;

namespace Portcullis.WireGuard.Tests.Uapi;

/// <summary>Runs the stock `wg` (wireguard-tools) as a child process, reaped even on timeout.</summary>
internal static class WgTool
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("wg")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start wg");
        using var timeout = new CancellationTokenSource(Timeout);
        try
        {
            var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
            var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
            await process.WaitForExitAsync(timeout.Token);
            return (process.ExitCode, await stdout, await stderr);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(CancellationToken.None);
            }
        }
    }

    /// <summary>Runs wg and fails the test with its stderr unless it exits 0.</summary>
    public static async Task<string> RunOkAsync(params string[] arguments)
    {
        var (exitCode, stdout, stderr) = await RunAsync(arguments);
        Assert.True(exitCode == 0, $"wg {string.Join(' ', arguments)} exited {exitCode}: {stderr}");
        return stdout;
    }
}

/// <summary>A file only its owner can read (wg warns about, and we avoid, world-readable keys); deleted on Dispose.</summary>
internal sealed class SecretFile : IDisposable
{
    public SecretFile(string content)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "pct-uapi-" + Guid.NewGuid().ToString("n"));
        using (File.Create(Path))
        {
        }
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(Path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllText(Path, content);
    }

    public string Path { get; }

    public void Dispose() => File.Delete(Path);
}
