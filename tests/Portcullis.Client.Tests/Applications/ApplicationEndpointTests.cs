using Portcullis.Client.Applications;

namespace Portcullis.Client.Tests.Applications;

public sealed class ApplicationEndpointTests
{
    [Theory]
    [InlineData("http://127.0.0.1:8080", true)]
    [InlineData("https://seedbox.lan/qbt/", true)]
    [InlineData("http://[::1]:9091/transmission/rpc", true)]
    [InlineData("ftp://127.0.0.1:8080", false)]
    [InlineData("127.0.0.1:8080", false)]
    [InlineData("http://admin:secret@127.0.0.1:8080", false)]
    [InlineData("/transmission/rpc", false)]
    [InlineData("", false)]
    public void TryParseUrl_HttpOrHttpsWithAHostAndNoCredentials_Accepted(string text, bool accepted)
    {
        Assert.Equal(accepted, ApplicationEndpoint.TryParseUrl(text, out var url));
        Assert.Equal(accepted, url is not null);
    }

    [Fact]
    public void LoadCredentials_PasswordFile_FirstLineOnlyWithoutItsNewline()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "pa ss:word\r\nsecond line\n");
            var credentials = new ApplicationEndpoint(ApplicationKind.Transmission, new Uri("http://127.0.0.1:9091/transmission/rpc"))
            {
                User = "me",
                PasswordFile = path,
            }.LoadCredentials();
            Assert.Equal(("me", "pa ss:word"), (credentials!.UserName, credentials.Password));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void LoadCredentials_NoUser_None()
    {
        Assert.Null(new ApplicationEndpoint(ApplicationKind.QBittorrent, new Uri("http://127.0.0.1:8080")).LoadCredentials());
    }

    [Fact]
    public void ToString_HoldsThePathNeverThePassword()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "hunter2-secret\n");
            var endpoint = new ApplicationEndpoint(ApplicationKind.QBittorrent, new Uri("http://127.0.0.1:8080")) { User = "me", PasswordFile = path };
            _ = endpoint.LoadCredentials();
            Assert.DoesNotContain("hunter2", endpoint.ToString(), StringComparison.Ordinal);
            Assert.Contains(path, endpoint.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
