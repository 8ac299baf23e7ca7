using System.Diagnostics;

namespace Portcullis.Testing;

/// <summary>Runs a command to completion (no shell, no quoting; killed after a timeout) and returns its exit code and output.</summary>
public static class Shell
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    public static (int ExitCode, string Output) Run(string file, params string[] arguments) => Run(DefaultTimeout, file, arguments);

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
        // Process.Dispose leaves redirected pipes to the finalizer: close them on every path, or hundreds of commands
        // push descriptor numbers past 1024, where libnftables' select() aborts the test host.
        using var output = process.StandardOutput;
        using var error = process.StandardError;
        var stdout = output.ReadToEndAsync();
        var stderr = error.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            throw new TimeoutException($"{file} {string.Join(' ', arguments)} did not finish: {stdout.Result}{stderr.Result}");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    /// <summary>Runs the command and returns its output; throws with the output when it exits non-zero.</summary>
    public static string Check(string file, params string[] arguments)
    {
        var (exitCode, output) = Run(file, arguments);
        if (exitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} exited {exitCode}: {output}");
        return output;
    }
}
