using System.Diagnostics;

namespace Portcullis.Linux.Tests.Support;

/// <summary>Runs a command to completion and returns its exit code and output.</summary>
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
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(30_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', arguments)} did not finish");
        }
        var output = stdout + stderr.Result;
        // Close the pipes now rather than at finalization: leaked descriptors past 1024 break libnftables' select().
        process.StandardOutput.Dispose();
        process.StandardError.Dispose();
        return (process.ExitCode, output);
    }

    public static string Check(string file, params string[] arguments)
    {
        var (exitCode, output) = Run(file, arguments);
        if (exitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} exited {exitCode}: {output}");
        return output;
    }
}
