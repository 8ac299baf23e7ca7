using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Portcullis.Client.PortForwarding;

/// <summary>
/// Runs <c>--on-port-change</c> through /bin/sh -c with the port in $PORTCULLIS_PORT and in place of the text
/// {port}. Output is logged; a failure, a non-zero exit or running past the time limit (the process is killed) is
/// logged too and never ends the client.
/// </summary>
public static class PortChangeHook
{
    /// <summary>The command text as the shell will see it.</summary>
    public static string Expand(string command, ushort port)
    {
        ArgumentNullException.ThrowIfNull(command);
        return command.Replace("{port}", port.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    /// <summary>Runs the hook; returns its exit code, or null when it could not start or was killed at the time limit.</summary>
    public static async Task<int?> RunAsync(string command, ushort port, TimeSpan timeLimit, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(logger);
        var start = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(Expand(command, port));
        start.Environment["PORTCULLIS_PORT"] = port.ToString(CultureInfo.InvariantCulture);
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("no process");
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            logger.HookFailed(e.Message);
            return null;
        }
        using (process)
        {
            process.StandardInput.Close();
            var output = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
            var errors = process.StandardError.ReadToEndAsync(CancellationToken.None);
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            limit.CancelAfter(timeLimit);
            try
            {
                await process.WaitForExitAsync(limit.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                logger.HookTimedOut(timeLimit.TotalSeconds);
                return null;
            }
            LogLines(logger, await output.ConfigureAwait(false));
            LogLines(logger, await errors.ConfigureAwait(false));
            if (process.ExitCode != 0)
                logger.HookFailed($"exit code {process.ExitCode}");
            return process.ExitCode;
        }
    }

    private static void LogLines(ILogger logger, string text)
    {
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            logger.HookOutput(line);
    }
}
