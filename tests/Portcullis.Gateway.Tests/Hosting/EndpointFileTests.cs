using System.Net;
using Portcullis.Core.Io;
using Portcullis.Gateway.Hosting;

namespace Portcullis.Gateway.Tests.Hosting;

/// <summary>The endpoint memory file: private, replaced whole, read back exactly, and not trusted through a link.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class EndpointFileTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("portcullis-endpoints-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static string Key() => Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    [Fact]
    public void WriteThenRead_IPv4AndIPv6_SameEndpointsInAPrivateFileInAPrivateFolder()
    {
        var path = Path.Combine(_folder, "run", "pc0.endpoints");
        var (a, b) = (Key(), Key());
        var endpoints = new Dictionary<string, UdpEndpoint>
        {
            [a] = UdpEndpoint.FromIPEndPoint(IPEndPoint.Parse("203.0.113.21:51820")),
            [b] = UdpEndpoint.FromIPEndPoint(IPEndPoint.Parse("[2001:db8:2::16]:40000")),
        };

        EndpointFile.Write(path, endpoints);
        var read = EndpointFile.Read(path, out var skipped);

        Assert.Equal(0, skipped);
        Assert.Equal(endpoints, read);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(path)!));
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(path)!)); // no temporary file left
    }

    [Fact]
    public void Write_Again_ReplacesTheWholeFile()
    {
        var path = Path.Combine(_folder, "pc0.endpoints");
        EndpointFile.Write(path, new Dictionary<string, UdpEndpoint> { [Key()] = UdpEndpoint.FromIPEndPoint(IPEndPoint.Parse("192.0.2.1:1")) });
        var only = Key();

        EndpointFile.Write(path, new Dictionary<string, UdpEndpoint> { [only] = UdpEndpoint.FromIPEndPoint(IPEndPoint.Parse("192.0.2.2:2")) });

        Assert.Equal([only], EndpointFile.Read(path, out _).Keys);
    }

    [Fact]
    public void Read_NoFile_EmptyAndBadLines_SkippedAndCounted()
    {
        Assert.Empty(EndpointFile.Read(Path.Combine(_folder, "absent"), out var none));
        Assert.Equal(0, none);

        var good = Key();
        var path = Path.Combine(_folder, "pc0.endpoints");
        File.WriteAllText(path, $"{good} 192.0.2.1:51820\nnot-a-key 192.0.2.1:1\n{Key()} 192.0.2.1\n{Key()} 192.0.2.1:0\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var read = EndpointFile.Read(path, out var skipped);

        Assert.Equal([good], read.Keys);
        Assert.Equal(3, skipped);
    }

    [Fact]
    public void Read_SymbolicLink_Refused()
    {
        var real = Path.Combine(_folder, "real");
        EndpointFile.Write(real, new Dictionary<string, UdpEndpoint> { [Key()] = UdpEndpoint.FromIPEndPoint(IPEndPoint.Parse("192.0.2.1:1")) });
        var link = Path.Combine(_folder, "pc0.endpoints");
        File.CreateSymbolicLink(link, real);

        Assert.Throws<Linux.Files.PrivateFileException>(() => EndpointFile.Read(link, out _));
    }
}
