using System.Net;
using System.Runtime.Versioning;
using Microsoft.Extensions.Logging.Abstractions;
using Portcullis.Gateway.Admin.Http;
using Portcullis.Gateway.Configuration;

namespace Portcullis.Gateway.Tests.Admin;

[SupportedOSPlatform("linux")]
public sealed class AdminTokenTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("portcullis-token-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void LoadOrCreate_NoFile_CreatesOwnerOnly32RandomBytes()
    {
        var path = Path.Combine(_folder, "etc", "admin.token");

        var token = AdminToken.LoadOrCreate(path);

        Assert.True(token.Created);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        var text = File.ReadAllText(path).Trim();
        Assert.Equal(32, System.Buffers.Text.Base64Url.DecodeFromChars(text).Length);
        Assert.True(token.Matches(text));
        Assert.False(token.Matches(text.AsSpan(0, text.Length - 1)));
        Assert.False(AdminToken.LoadOrCreate(Path.Combine(_folder, "other.token")).Matches(text));
    }

    [Fact]
    public void LoadOrCreate_ExistingFile_UsesItsToken()
    {
        var path = Write("existing-token-abcdefgh\n", UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var token = AdminToken.LoadOrCreate(path);

        Assert.False(token.Created);
        Assert.True(token.Matches("existing-token-abcdefgh"));
    }

    [Theory]
    [InlineData(UnixFileMode.OtherRead)]
    [InlineData(UnixFileMode.GroupRead)]
    [InlineData(UnixFileMode.OtherWrite)]
    public void LoadOrCreate_OpenToOthers_RefusesNamingTheFileNotTheToken(UnixFileMode extra)
    {
        var path = Write("existing-token-abcdefgh", UnixFileMode.UserRead | UnixFileMode.UserWrite | extra);

        var error = Assert.Throws<AdminTokenException>(() => AdminToken.LoadOrCreate(path));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("chmod 600", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("existing-token", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadOrCreate_SymbolicLinkToAPrivateToken_Refused()
    {
        var target = Path.Combine(_folder, "real.token");
        File.WriteAllText(target, "existing-token-abcdefgh\n");
        File.SetUnixFileMode(target, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var link = Path.Combine(_folder, "admin.token");
        File.CreateSymbolicLink(link, target);

        var error = Assert.Throws<AdminTokenException>(() => AdminToken.LoadOrCreate(link));

        Assert.Equal($"Admin token file: {link} is a symbolic link; name the file itself.", error.Message);
    }

    [Fact]
    public void LoadOrCreate_DanglingSymbolicLink_NotFollowedToCreateAFile()
    {
        var target = Path.Combine(_folder, "elsewhere.token");
        var link = Path.Combine(_folder, "admin.token");
        File.CreateSymbolicLink(link, target);

        Assert.Throws<AdminTokenException>(() => AdminToken.LoadOrCreate(link));
        Assert.False(File.Exists(target));
    }

    [Fact]
    public void LoadOrCreate_OwnedByAnotherUser_Refused()
    {
        var path = Write("existing-token-abcdefgh\n", UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Assert.Equal(0, Shell.Run("chown", "65534", path).ExitCode);

        var error = Assert.Throws<AdminTokenException>(() => AdminToken.LoadOrCreate(path));

        Assert.StartsWith($"Admin token file: {path} is owned by uid 65534, not by the user of this process", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("existing-token", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("short\n")]
    public void LoadOrCreate_TooShort_Refuses(string content)
    {
        var path = Write(content, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var error = Assert.Throws<AdminTokenException>(() => AdminToken.LoadOrCreate(path));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_WorldReadableTokenFile_RefusesToStart()
    {
        var path = Write("existing-token-abcdefgh", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
        var admin = new AdminSection { Listen = new IPEndPoint(IPAddress.Loopback, 0), TokenFile = path };

        var error = await Assert.ThrowsAsync<AdminTokenException>(
            () => AdminServer.StartAsync(admin, new GatewayOperationsDouble(), NullLoggerFactory.Instance, CancellationToken.None));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_NoTokenFile_CreatesOneThatOpensTheApi()
    {
        var path = Path.Combine(_folder, "admin.token");
        var admin = new AdminSection { Listen = new IPEndPoint(IPAddress.Loopback, 0), TokenFile = path };
        await using var server = await AdminServer.StartAsync(admin, new GatewayOperationsDouble(), NullLoggerFactory.Instance, CancellationToken.None);
        using var client = new HttpClient { BaseAddress = new Uri($"http://{server.Endpoint}") };
        client.DefaultRequestHeaders.Authorization = new("Bearer", File.ReadAllText(path).Trim());

        var response = await client.GetAsync("/api/v1/peers");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }

    private string Write(string content, UnixFileMode mode)
    {
        var path = Path.Combine(_folder, "admin.token");
        File.WriteAllText(path, content);
        File.SetUnixFileMode(path, mode);
        return path;
    }
}
