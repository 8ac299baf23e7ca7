using System.Diagnostics;

namespace Portcullis.Client.Dns;

/// <summary>resolvectl(1), which sets per-link DNS in systemd-resolved over D-Bus; tests replace it to read the command lines.</summary>
public interface IResolvectl
{
    /// <summary>Runs <c>resolvectl ARGUMENTS</c>: its exit code and what it printed on stderr (127 when it is not installed).</summary>
    (int ExitCode, string Error) Run(IReadOnlyList<string> arguments);
}

/// <summary>The installed resolvectl, found on PATH, each call bounded by <see cref="Timeout"/>.</summary>
public sealed class Resolvectl : IResolvectl
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    public (int ExitCode, string Error) Run(IReadOnlyList<string> arguments)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var start = new ProcessStartInfo("resolvectl") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        Process? process;
        try
        {
            process = Process.Start(start);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (127, $"cannot run resolvectl: {e.Message}");
        }
        if (process is null)
            return (127, "cannot run resolvectl");
        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(Timeout))
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
                return (124, $"resolvectl did not answer in {Timeout.TotalSeconds:0} s");
            }
            _ = output.Result;
            return (process.ExitCode, error.Result.Trim());
        }
    }
}
