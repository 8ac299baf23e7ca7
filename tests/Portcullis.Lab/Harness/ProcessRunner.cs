using System.Diagnostics;
using System.Text;

namespace Portcullis.Lab.Harness;

/// <summary>
/// Runs commands as children without a shell (ArgumentList, so no quoting or injection). Each child starts
/// through setsid(1) so that it leads its own process group, and a timeout can end it with everything it spawned.
/// </summary>
internal static class ProcessRunner
{
    public static Process StartGroupLeader(
        IReadOnlyList<string> command, IReadOnlyDictionary<string, string>? environment, string? input = null)
    {
        ArgumentOutOfRangeException.ThrowIfZero(command.Count);
        var info = new ProcessStartInfo("setsid")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var arg in command)
            info.ArgumentList.Add(arg);
        if (environment is not null)
        {
            foreach (var (name, value) in environment)
                info.Environment[name] = value;
        }

        // setsid execs in place when its caller is not a group leader (a fresh child never is), so the
        // process id we get is also the id of the new process group.
        var process = Process.Start(info) ?? throw new LabCommandException($"could not start {command[0]}");
        if (input is not null)
            process.StandardInput.Write(input);
        process.StandardInput.Close();
        return process;
    }

    public static async Task<CommandResult> RunAsync(IReadOnlyList<string> command, RunOptions options, string? input = null)
    {
        using var process = StartGroupLeader(command, options.Environment, input);
        // Process.Dispose leaves redirected pipes to the finalizer; hundreds of commands would then push descriptor
        // numbers past 1024, where libnftables' select() aborts the process. Close them on every path (the fix
        // Portcullis.Testing's Shell has too).
        using var output = process.StandardOutput;
        using var error = process.StandardError;
        var stdout = output.ReadToEndAsync();
        var stderr = error.ReadToEndAsync();
        var timedOut = false;
        using (var cts = new CancellationTokenSource(options.Timeout))
        {
            try
            {
                await process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                timedOut = true;
                Native.SignalGroup(process.Id, Native.SigKill);
                await process.WaitForExitAsync();
            }
        }

        var result = new CommandResult(command, process.ExitCode, await stdout, await stderr, timedOut);
        return options.Check ? result.EnsureSuccess() : result;
    }

    public static Task<CommandResult> RunCheckedAsync(params string[] command) =>
        RunAsync(command, RunOptions.Default with { Check = true });

    /// <summary>Collects a child's output lines into one bounded buffer, for diagnostics when a test fails.</summary>
    internal sealed class OutputBuffer
    {
        private const int MaxChars = 256 * 1024;
        private readonly StringBuilder _text = new();
        private readonly Lock _lock = new();

        public void Append(string? line)
        {
            if (line is null)
                return;
            lock (_lock)
            {
                if (_text.Length < MaxChars)
                    _text.AppendLine(line);
            }
        }

        public override string ToString()
        {
            lock (_lock)
                return _text.ToString();
        }
    }
}
