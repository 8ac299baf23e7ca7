namespace Portcullis.Gateway.Store.Sqlite;

/// <summary>
/// The database file on disk. It holds the peer list and forwarding plan of the gateway, so only its owner may
/// read it: a missing directory is made 0700 and a missing file 0600 (SQLite gives its -wal and -shm files the
/// database file's mode). An existing directory keeps the mode its owner chose.
/// </summary>
internal static class SqliteStoreFile
{
    private const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Creates the directory and an empty file (an empty file is an empty database) when missing.</summary>
    public static void Prepare(string path)
    {
        var directory = Path.GetDirectoryName(path);
        if (!string.IsNullOrEmpty(directory) && !Directory.Exists(directory))
        {
            if (OperatingSystem.IsWindows())
                Directory.CreateDirectory(directory);
            else
                Directory.CreateDirectory(directory, DirectoryMode);
        }
        if (!File.Exists(path))
            CreateEmpty(path);
    }

    /// <summary>Where the copy made before migrating from <paramref name="version"/> goes: <c>portcullis.db.bak-v1</c>.</summary>
    public static string BackupPath(string path, int version) => $"{path}.bak-v{version}";

    /// <summary>A new empty owner-only file, replacing one left by an earlier attempt.</summary>
    public static void CreateEmpty(string path)
    {
        File.Delete(path);
        var options = new FileStreamOptions { Mode = System.IO.FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = FileMode;
        using var stream = new FileStream(path, options);
    }
}
