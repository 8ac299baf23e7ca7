using Portcullis.Client.PortForwarding;

namespace Portcullis.Client.Tests.PortForwarding;

public sealed class PortFileTests : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("portfile-");

    public void Dispose() => _directory.Delete(recursive: true);

    [Fact]
    public void Write_NewFile_PortAndNewlineMode0644NoTemporaryLeft()
    {
        var path = Path.Combine(_directory.FullName, "port");

        PortFile.Write(path, 31337);

        Assert.Equal("31337\n", File.ReadAllText(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead, File.GetUnixFileMode(path));
        Assert.Equal(["port"], _directory.GetFiles().Select(f => f.Name));
    }

    [Fact]
    public void Write_ExistingFile_ReplacedByRenameNotRewrittenInPlace()
    {
        var path = Path.Combine(_directory.FullName, "port");
        PortFile.Write(path, 40000);
        // A reader holding the old file open keeps the old content: the new one is another inode, swapped in whole.
        using var reader = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);

        PortFile.Write(path, 41000);

        Assert.Equal("41000\n", File.ReadAllText(path));
        using var old = new StreamReader(reader);
        Assert.Equal("40000\n", old.ReadToEnd());
        Assert.Single(_directory.GetFiles());
    }

    [Fact]
    public async Task Write_ConcurrentReaders_NeverSeeAPartialFile()
    {
        var path = Path.Combine(_directory.FullName, "port");
        PortFile.Write(path, 10000);
        using var stop = new CancellationTokenSource();
        var bad = 0;
        var reader = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                var text = File.ReadAllText(path);
                if (text is not ("10000\n" or "20000\n"))
                    Interlocked.Increment(ref bad);
            }
        });

        for (var i = 0; i < 300; i++)
            PortFile.Write(path, i % 2 == 0 ? (ushort)20000 : (ushort)10000);
        await stop.CancelAsync();
        await reader;

        Assert.Equal(0, bad);
    }

    [Fact]
    public void Write_MissingDirectory_ThrowsIoAndLeavesNothing()
    {
        var path = Path.Combine(_directory.FullName, "absent", "port");

        Assert.ThrowsAny<IOException>(() => PortFile.Write(path, 1));
        Assert.Empty(_directory.GetFileSystemInfos());
    }
}
