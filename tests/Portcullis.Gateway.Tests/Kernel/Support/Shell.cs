using System.Diagnostics;

namespace Portcullis.Gateway.Tests.Kernel.Support;

/// <summary>Runs a command to completion (no shell, no quoting) and returns its exit code and output.</summary>
internal static class Shell
{
    public static (int ExitCode, string Output) Run(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}");
        // Process.Dispose leaves the pipes to the finalizer; close them now, or descriptors pile up past 1024
        // (where libnftables' select() aborts the test host).
        using var output = process.StandardOutput;
        using var error = process.StandardError;
        var stderr = error.ReadToEndAsync();
        var stdout = output.ReadToEnd();
        if (!process.WaitForExit(30_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', arguments)} did not finish");
        }
        return (process.ExitCode, stdout + stderr.Result);
    }

    public static string Check(string file, params string[] arguments)
    {
        var (exitCode, output) = Run(file, arguments);
        if (exitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} exited {exitCode}: {output}");
        return output;
    }
}
