namespace Portcullis.Client.Tests.Applications;

/// <summary>A temporary folder for the password files an updater test hands to <c>PasswordFile</c>; removed on dispose.</summary>
internal sealed class PasswordFiles(string prefix) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory(prefix).FullName;

    /// <summary>Writes <paramref name="password"/> (with a trailing newline, as an editor leaves it) and returns the path.</summary>
    public string Write(string password)
    {
        var path = Path.Combine(_directory, "password");
        File.WriteAllText(path, password + "\n");
        return path;
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
