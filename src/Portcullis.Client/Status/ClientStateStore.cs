namespace Portcullis.Client.Status;

/// <summary>State files on disk: written atomically (temp + rename), 0600, in a 0700 directory.</summary>
public sealed class ClientStateStore(string directory)
{
    public string Directory { get; } = directory;

    public void Write(ClientState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (!OperatingSystem.IsLinux())
            throw new PlatformNotSupportedException();
        System.IO.Directory.CreateDirectory(Directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var path = ClientState.PathFor(Directory, state.Interface);
        var temp = path + ".tmp";
        File.Delete(temp);
        using (var stream = new FileStream(temp, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }))
        {
            stream.Write(System.Text.Encoding.UTF8.GetBytes(state.Serialize()));
        }
        File.Move(temp, path, overwrite: true);
    }

    public ClientState? Read(string interfaceName)
    {
        var path = ClientState.PathFor(Directory, interfaceName);
        try
        {
            return ClientState.Parse(File.ReadAllText(path));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Every state file present, oldest interface name first.</summary>
    public IReadOnlyList<ClientState> ReadAll()
    {
        if (!System.IO.Directory.Exists(Directory))
            return [];
        var states = new List<ClientState>();
        foreach (var path in System.IO.Directory.GetFiles(Directory, "*.state").Order(StringComparer.Ordinal))
        {
            try
            {
                if (ClientState.Parse(File.ReadAllText(path)) is { } state)
                    states.Add(state);
            }
            catch (IOException)
            {
            }
        }
        return states;
    }

    public void Delete(string interfaceName) => File.Delete(ClientState.PathFor(Directory, interfaceName));
}
