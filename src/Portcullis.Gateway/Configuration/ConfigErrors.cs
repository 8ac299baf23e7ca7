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

    public void ThrowIfAny()
    {
        if (_errors.Count > 0)
            throw new GatewayConfigException([.. _errors]);
    }
}
