namespace Portcullis.Gateway.Configuration;

/// <summary>Every problem found in one file, each as <c>FILE:LINE: [section] key: message</c>.</summary>
internal sealed class ConfigErrors(string file)
{
    private readonly List<string> _errors = [];

    public string File { get; } = file;

    public int Count => _errors.Count;

    public void Add(int line, string section, string key, string message) =>
        _errors.Add($"{File}:{line}: {section} {key}: {message}");

    public void Add(int line, string message) => _errors.Add($"{File}:{line}: {message}");

    /// <summary>A problem no one line holds.</summary>
    public void AddFileWide(string message) => _errors.Add($"{File}: {message}");

    public void ThrowIfAny()
    {
        if (_errors.Count > 0)
            throw ToException();
    }

    /// <summary>Everything found so far, for a caller that cannot read on.</summary>
    public GatewayConfigException ToException() => new([.. _errors]);
}
