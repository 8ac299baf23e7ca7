using System.Net;
using Portcullis.Client.Dns;

namespace Portcullis.Client.Tests.Dns;

/// <summary>Where the tunnel's DNS goes, against a resolv.conf in a temp folder and resolvectl stood in for.</summary>
public sealed class HostDnsTests : IDisposable
{
    private static readonly IPAddress[] Servers = [IPAddress.Parse("10.99.0.1")];
    private readonly string _dir = Directory.CreateTempSubdirectory("pc-hostdns-").FullName;

    private string ResolvConf => Path.Combine(_dir, "resolv.conf");

    private string Backup => Path.Combine(_dir, "state", "wg0.resolv.conf");

    /// <summary>Stands for /run/systemd/resolve: present when resolved has run here.</summary>
    private string ResolvedDirectory => Path.Combine(_dir, "resolve");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private HostDns Dns(RecordingResolvectl resolvectl) =>
        new("wg0", new ResolverConfiguration(ResolvConf, Backup), resolvectl, ResolvedDirectory);

    [Theory]
    [InlineData(false, false, DnsTargets.ResolvConf)]
    [InlineData(false, true, DnsTargets.ResolvConf)]
    [InlineData(true, true, DnsTargets.Resolved)]
    [InlineData(true, false, DnsTargets.Resolved | DnsTargets.ResolvConf)]
    public void Choose_ResolvedRunningAndWhoseResolvConf(bool running, bool resolveds, DnsTargets expected) =>
        Assert.Equal(expected, HostDns.Choose(running, resolveds));

    [Fact]
    public void Apply_NoResolved_ResolvConfOnlyAndNothingRun()
    {
        File.WriteAllText(ResolvConf, "nameserver 192.168.1.1\n");
        var resolvectl = new RecordingResolvectl();
        var dns = Dns(resolvectl);

        Assert.Equal(DnsTargets.ResolvConf, dns.Apply(Servers, []));
        Assert.Contains("nameserver 10.99.0.1\n", File.ReadAllText(ResolvConf), StringComparison.Ordinal);
        dns.Restore();

        Assert.Equal("nameserver 192.168.1.1\n", File.ReadAllText(ResolvConf));
        Assert.Empty(resolvectl.Calls);
    }

    [Fact]
    public void Apply_ResolvedOwnsResolvConf_LinkSetInResolvedAndTheFileLeftAlone()
    {
        Directory.CreateDirectory(ResolvedDirectory);
        File.CreateSymbolicLink(ResolvConf, "/run/systemd/resolve/stub-resolv.conf");
        var resolvectl = new RecordingResolvectl();
        var dns = Dns(resolvectl);

        Assert.Equal(DnsTargets.Resolved, dns.Apply(Servers, ["corp.example"]));
        dns.Restore();

        Assert.Equal("/run/systemd/resolve/stub-resolv.conf", new FileInfo(ResolvConf).LinkTarget);
        Assert.False(File.Exists(Backup));
        Assert.Equal(
            [["--no-pager", "status"], ["dns", "wg0", "10.99.0.1"], ["domain", "wg0", "~.", "corp.example"], ["revert", "wg0"]],
            resolvectl.Calls);
    }

    [Fact]
    public void Apply_ResolvedBesideAFileOfItsOwn_BothSetAndBothRestored()
    {
        Directory.CreateDirectory(ResolvedDirectory);
        File.WriteAllText(ResolvConf, "nameserver 192.168.1.1\n");
        var resolvectl = new RecordingResolvectl();
        var dns = Dns(resolvectl);

        Assert.Equal(DnsTargets.Resolved | DnsTargets.ResolvConf, dns.Apply(Servers, []));
        Assert.Contains("nameserver 10.99.0.1\n", File.ReadAllText(ResolvConf), StringComparison.Ordinal);
        Assert.Contains(["dns", "wg0", "10.99.0.1"], resolvectl.Calls);
        dns.Restore();

        Assert.Equal("nameserver 192.168.1.1\n", File.ReadAllText(ResolvConf));
        Assert.Equal(["revert", "wg0"], resolvectl.Calls[^1]);
    }

    [Fact]
    public void Apply_ResolvectlRefuses_RevertedAndTheErrorNamesTheCommand()
    {
        Directory.CreateDirectory(ResolvedDirectory);
        File.WriteAllText(ResolvConf, "nameserver 192.168.1.1\n");
        var resolvectl = new RecordingResolvectl { Answer = a => a[0] == "domain" ? (1, "Access denied") : (0, "") };
        var dns = Dns(resolvectl);

        var error = Assert.Throws<IOException>(() => dns.Apply(Servers, []));

        Assert.Contains("resolvectl domain wg0 ~. failed (1): Access denied", error.Message, StringComparison.Ordinal);
        Assert.Equal(["revert", "wg0"], resolvectl.Calls[^1]);
        Assert.Equal("nameserver 192.168.1.1\n", File.ReadAllText(ResolvConf));
        Assert.False(File.Exists(Backup));
    }
}
