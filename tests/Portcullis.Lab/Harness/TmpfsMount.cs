namespace Portcullis.Lab.Harness;

/// <summary>
/// A tiny tmpfs of its own at a fresh temp folder, so a test can fill a file system for real (ENOSPC) without touching
/// any other. Mode 0700 like the store's folder. Disposal unmounts it (lazily if something still holds it open, as a
/// killed daemon's file descriptors might for a moment) and removes the folder.
/// </summary>
internal sealed class TmpfsMount : IAsyncDisposable
{
    private TmpfsMount(string path) => Path = path;

    public string Path { get; }

    public static async Task<TmpfsMount> CreateAsync(int kibibytes)
    {
        var path = Directory.CreateTempSubdirectory("pcl-tmpfs-").FullName;
        var mounted = await ProcessRunner.RunAsync(
            ["mount", "-t", "tmpfs", "-o", $"size={kibibytes}k,mode=0700", "tmpfs", path], RunOptions.Default);
        if (!mounted.Succeeded)
        {
            Directory.Delete(path);
            throw new LabCommandException(mounted);
        }
        return new TmpfsMount(path);
    }

    /// <summary>Writes <paramref name="name"/> until the file system is full; returns how many bytes fitted.</summary>
    public long Fill(string name)
    {
        var buffer = new byte[4096];
        long written = 0;
        try
        {
            using var filler = new FileStream(System.IO.Path.Combine(Path, name), FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.WriteThrough);
            while (true)
            {
                filler.Write(buffer);
                written += buffer.Length;
            }
        }
        catch (IOException)
        {
            // ENOSPC: what we wanted. (Closing the stream may throw the same once more; it is caught here as well.)
        }
        return written;
    }

    public async ValueTask DisposeAsync()
    {
        var unmounted = await ProcessRunner.RunAsync(["umount", Path], RunOptions.Default);
        if (!unmounted.Succeeded)
            await ProcessRunner.RunAsync(["umount", "-l", Path], RunOptions.Default);
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
