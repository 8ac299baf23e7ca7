using System.Text;
using Portcullis.Linux.Files;
using Portcullis.Linux.Tests.Support;

namespace Portcullis.Linux.Tests.Files;

/// <summary>A secret is read only from the process user's own private regular file, never through a link.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class PrivateFileTests : IDisposable
{
    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private readonly string _folder = Directory.CreateTempSubdirectory("portcullis-private-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string Write(string name, string content, UnixFileMode mode = Private)
    {
        var path = Path.Combine(_folder, name);
        File.WriteAllText(path, content);
        File.SetUnixFileMode(path, mode);
        return path;
    }

    [Fact]
    public void Read_OwnPrivateFile_GivesTheContent()
    {
        var path = Write("key", "secret\n");

        Assert.Equal("secret\n", Encoding.ASCII.GetString(PrivateFile.Read(path, 64)));
    }

    [Fact]
    public void Read_SymbolicLinkToAPrivateFile_Refused()
    {
        var target = Write("key", "secret\n");
        var link = Path.Combine(_folder, "link");
        File.CreateSymbolicLink(link, target);

        var error = Assert.Throws<PrivateFileException>(() => PrivateFile.Read(link, 64));

        Assert.Equal($"{link} is a symbolic link; name the file itself", error.Message);
    }

    [Fact]
    public void Read_OwnedByAnotherUser_Refused()
    {
        var path = Write("key", "secret\n");
        Assert.Equal(0, Shell.Run("chown", "65534", path).ExitCode);

        var error = Assert.Throws<PrivateFileException>(() => PrivateFile.Read(path, 64));

        Assert.StartsWith($"{path} is owned by uid 65534, not by the user of this process (uid ", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(UnixFileMode.GroupRead, "0640")]
    [InlineData(UnixFileMode.OtherWrite, "0602")]
    public void Read_OpenToGroupOrOthers_Refused(UnixFileMode extra, string mode)
    {
        var path = Write("key", "secret\n", Private | extra);

        var error = Assert.Throws<PrivateFileException>(() => PrivateFile.Read(path, 64));

        Assert.Equal($"{path} is accessible by group or others (mode {mode}); chmod 600 it", error.Message);
    }

    [Fact]
    public void Read_NotARegularFile_RefusedWithoutBlocking()
    {
        var fifo = Path.Combine(_folder, "fifo");
        Assert.Equal(0, Shell.Run("mkfifo", "-m", "600", fifo).ExitCode);

        Assert.Equal($"{fifo} is not a regular file", Assert.Throws<PrivateFileException>(() => PrivateFile.Read(fifo, 64)).Message);
        Assert.Equal($"{_folder} is not a regular file", Assert.Throws<PrivateFileException>(() => PrivateFile.Read(_folder, 64)).Message);
    }

    [Fact]
    public void Read_TooLong_RefusedAndMissing_NotFound()
    {
        var path = Write("key", new string('x', 65));

        Assert.Equal($"{path} is too long (65 bytes, at most 64)", Assert.Throws<PrivateFileException>(() => PrivateFile.Read(path, 64)).Message);
        Assert.Throws<FileNotFoundException>(() => PrivateFile.Read(Path.Combine(_folder, "absent"), 64));
    }
}
