namespace Portcullis.Client.Config;

/// <summary>
/// A wg-quick file was refused. The message names the file, the line and the key, never a key's value
/// (a private key on the wrong line must not end up in a log).
/// </summary>
public sealed class WgQuickConfigException : Exception
{
    public WgQuickConfigException()
        : this("invalid wg-quick configuration")
    {
    }

    public WgQuickConfigException(string message)
        : base(message)
    {
        FilePath = string.Empty;
    }

    public WgQuickConfigException(string message, Exception innerException)
        : base(message, innerException)
    {
        FilePath = string.Empty;
    }

    public WgQuickConfigException(string path, int line, string? key, string reason)
        : base(key is null ? $"{path}:{line}: {reason}" : $"{path}:{line}: {key}: {reason}")
    {
        FilePath = path;
        Line = line;
        Key = key;
    }

    public string FilePath { get; }

    /// <summary>1-based line number; 0 when the problem is the file as a whole (e.g. no [Interface]).</summary>
    public int Line { get; }

    public string? Key { get; }
}
