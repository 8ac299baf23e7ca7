using System.Diagnostics;

namespace Portcullis.PortMapping.Tests.Support;

/// <summary>Runs a command to completion (killed after a timeout) and returns its exit code and output.</summary>
internal static class Shell
{
    public static (int ExitCode, string Output) Run(TimeSpan timeout, string file, params string[] arguments)
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
        var stdout = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            throw new TimeoutException($"{file} {string.Join(' ', arguments)} did not finish: {stdout.Result}{stderr.Result}");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    public static string Check(string file, params string[] arguments)
    {
        var (exitCode, output) = Run(TimeSpan.FromSeconds(30), file, arguments);
        if (exitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} exited {exitCode}: {output}");
        return output;
    }
}
