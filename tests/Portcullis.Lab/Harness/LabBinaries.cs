namespace Portcullis.Lab.Harness;

/// <summary>
/// Where the published Portcullis executable is: env <c>PORTCULLIS_BIN</c>, else <c>out/portcullis/portcullis</c>
/// under the repository root (found by walking up from the test assembly to <c>Portcullis.slnx</c>).
/// </summary>
public static class LabBinaries
{
    public static string RepositoryRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Portcullis.slnx")))
                    return dir.FullName;
            }

            throw new InvalidOperationException($"no Portcullis.slnx above {AppContext.BaseDirectory}");
        }
    }

    /// <summary>The <c>portcullis</c> executable; fails with how to build it when it is missing.</summary>
    public static string Portcullis
    {
        get
        {
            var path = Environment.GetEnvironmentVariable("PORTCULLIS_BIN");
            if (string.IsNullOrEmpty(path))
                path = Path.Combine(RepositoryRoot, "out", "portcullis", "portcullis");
            if (!File.Exists(path))
            {
                throw new InvalidOperationException(
                    $"{path} does not exist: run `dotnet publish src/Portcullis.Cli -c Release -o out/portcullis` " +
                    "from the repository root first, or point PORTCULLIS_BIN at the executable.");
            }

            return path;
        }
    }

    /// <summary>The folder holding <c>portcullis</c> and <c>portcullis-tunnel</c> (what wg-quick needs on PATH).</summary>
    public static string PortcullisDirectory => Path.GetDirectoryName(Portcullis)!;
}
