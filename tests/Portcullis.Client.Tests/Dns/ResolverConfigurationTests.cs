using System.Net;
using Portcullis.Client.Dns;

namespace Portcullis.Client.Tests.Dns;

public sealed class ResolverConfigurationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pc-dns-").FullName;

    private string ResolvConf => Path.Combine(_dir, "resolv.conf");

    private string Backup => Path.Combine(_dir, "state", "wg0.resolv.conf");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Render_ServersAndSearch()
    {
        var text = ResolverConfiguration.Render("wg0", [IPAddress.Parse("10.99.0.1"), IPAddress.Parse("2001:db8::53")], ["example.org", "lab"]);
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("# Written by portcullis connect (wg0)", lines[0], StringComparison.Ordinal);
        Assert.Equal(["nameserver 10.99.0.1", "nameserver 2001:db8::53", "search example.org lab"], lines[1..]);
    }

    [Fact]
    public void ApplyThenRestore_FileComesBackAsItWas()
    {
        File.WriteAllText(ResolvConf, "nameserver 192.0.2.53\n");
        var resolver = new ResolverConfiguration(ResolvConf, Backup);

        resolver.Apply("nameserver 10.99.0.1\n");
        Assert.Equal("nameserver 10.99.0.1\n", File.ReadAllText(ResolvConf));
        Assert.True(File.Exists(Backup));

        Assert.True(resolver.Restore());
        Assert.Equal("nameserver 192.0.2.53\n", File.ReadAllText(ResolvConf));
        Assert.False(File.Exists(Backup));
        Assert.False(resolver.Restore());
    }

    [Fact]
    public void Apply_BackupLeftByAKilledClient_KeepsTheOriginal()
    {
        File.WriteAllText(ResolvConf, "nameserver 192.0.2.53\n");
        new ResolverConfiguration(ResolvConf, Backup).Apply("nameserver 10.99.0.1\n");
        // The client died without restoring; the next one must not save our own file as "the original".
        var next = new ResolverConfiguration(ResolvConf, Backup);
        next.Apply("nameserver 10.99.0.1\n");
        next.Restore();
        Assert.Equal("nameserver 192.0.2.53\n", File.ReadAllText(ResolvConf));
    }

    [Fact]
    public void ApplyThenRestore_SymlinkComesBackAsTheLink()
    {
        var target = Path.Combine(_dir, "stub-resolv.conf");
        File.WriteAllText(target, "nameserver 127.0.0.53\n");
        File.CreateSymbolicLink(ResolvConf, target);
        var resolver = new ResolverConfiguration(ResolvConf, Backup);

        resolver.Apply("nameserver 10.99.0.1\n");
        Assert.Null(new FileInfo(ResolvConf).LinkTarget);
        Assert.Equal("nameserver 127.0.0.53\n", File.ReadAllText(target));

        resolver.Restore();
        Assert.Equal(target, new FileInfo(ResolvConf).LinkTarget);
    }

    [Fact]
    public void ApplyThenRestore_NoFileBefore_NoFileAfter()
    {
        var resolver = new ResolverConfiguration(ResolvConf, Backup);
        resolver.Apply("nameserver 10.99.0.1\n");
        Assert.True(File.Exists(ResolvConf));
        resolver.Restore();
        Assert.False(File.Exists(ResolvConf));
    }
}
