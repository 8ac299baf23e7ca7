namespace Portcullis.Lab.Harness;

/// <summary>What a finished command left behind.</summary>
public sealed record CommandResult(IReadOnlyList<string> Command, int ExitCode, string Stdout, string Stderr, bool TimedOut)
{
    public bool Succeeded => ExitCode == 0 && !TimedOut;

    /// <summary>Throws <see cref="LabCommandException"/> naming the command and its stderr unless it succeeded.</summary>
    public CommandResult EnsureSuccess() => Succeeded ? this : throw new LabCommandException(this);

    public override string ToString() =>
        $"`{string.Join(' ', Command)}` exited {(TimedOut ? "by timeout" : ExitCode.ToString())}" +
        $"\nstdout: {Stdout.TrimEnd()}\nstderr: {Stderr.TrimEnd()}";
}

public sealed class LabCommandException : Exception
{
    public LabCommandException(CommandResult result)
        : base(result.ToString()) => Result = result;

    public LabCommandException(string message)
        : base(message) => Result = null;

    public LabCommandException(string message, Exception inner)
        : base(message, inner) => Result = null;

    public LabCommandException()
        : this("lab command failed")
    {
    }

    public CommandResult? Result { get; }
}

/// <summary>How to run one command. Defaults to a 60 s timeout, no extra environment, no exception on failure.</summary>
public sealed record RunOptions
{
    public static RunOptions Default { get; } = new();

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Throw <see cref="LabCommandException"/> (with stderr) when the command fails. Defaults to false.</summary>
    public bool Check { get; init; }

    /// <summary>Variables set (or replaced) in the child's environment.</summary>
    public IReadOnlyDictionary<string, string>? Environment { get; init; }
}
