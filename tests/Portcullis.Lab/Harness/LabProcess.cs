using System.Diagnostics;

namespace Portcullis.Lab.Harness;

/// <summary>
/// A foreground child (a daemon run with -f, a traffic generator) started through <c>ip netns exec</c> in its
/// own process group, with stdout and stderr captured for diagnostics. Disposing sends SIGTERM to the group,
/// waits, then SIGKILLs it, and reaps the child. Disposal is idempotent.
/// </summary>
public sealed class LabProcess : IAsyncDisposable
{
    private static readonly TimeSpan TermGrace = TimeSpan.FromSeconds(3);
    private readonly Process _process;
    private readonly ProcessRunner.OutputBuffer _output = new();
    private int _disposed;
    private int? _exitCode;

    internal LabProcess(string name, IReadOnlyList<string> command, IReadOnlyDictionary<string, string>? environment)
    {
        Name = name;
        _process = ProcessRunner.StartGroupLeader(command, environment);
        Id = _process.Id;
        _process.OutputDataReceived += (_, e) => _output.Append(e.Data);
        _process.ErrorDataReceived += (_, e) => _output.Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Name { get; }

    /// <summary>The process id (also its group's), still known after disposal.</summary>
    public int Id { get; }

    public bool HasExited => _exitCode is not null || _process.HasExited;

    public int ExitCode => _exitCode ?? _process.ExitCode;

    /// <summary>Everything the process printed so far, stdout and stderr interleaved.</summary>
    public string Output => _output.ToString();

    /// <summary>Waits for the process to exit by itself; false when it is still running at the timeout.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Sends SIGTERM to the process group (as an operator stopping a daemon would).</summary>
    public void Terminate() => Native.SignalGroup(_process.Id, Native.SigTerm);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        if (!_process.HasExited)
        {
            Native.SignalGroup(_process.Id, Native.SigTerm);
            if (!await WaitForExitAsync(TermGrace))
                Native.SignalGroup(_process.Id, Native.SigKill);
        }

        // Whatever the leader left behind in its group goes too.
        Native.SignalGroup(_process.Id, Native.SigKill);
        await _process.WaitForExitAsync();
        _exitCode = _process.ExitCode;
        _process.Dispose();
    }

    public override string ToString() => $"{Name} (pid {Id}):\n{Output}";
}
