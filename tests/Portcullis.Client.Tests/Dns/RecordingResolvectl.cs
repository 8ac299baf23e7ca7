using Portcullis.Client.Dns;

namespace Portcullis.Client.Tests.Dns;

/// <summary>Stands in for resolvectl(1) (and systemd-resolved behind it, which this machine does not run): records each command line and answers as told.</summary>
internal sealed class RecordingResolvectl : IResolvectl
{
    public List<string[]> Calls { get; } = [];

    /// <summary>The answer to a command line; defaults to success.</summary>
    public Func<IReadOnlyList<string>, (int, string)> Answer { get; init; } = _ => (0, "");

    public (int ExitCode, string Error) Run(IReadOnlyList<string> arguments)
    {
        Calls.Add([.. arguments]);
        return Answer(arguments);
    }
}
