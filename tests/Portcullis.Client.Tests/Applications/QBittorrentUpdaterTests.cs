using Portcullis.Client.Applications;

namespace Portcullis.Client.Tests.Applications;

public sealed class QBittorrentUpdaterTests : IDisposable
{
    private readonly PasswordFiles _passwords = new("pc-qbt-");

    [Fact]
    public async Task SetPort_LocalhostBypass_SetsListenPortWithoutLogin()
    {
        using var app = new QBittorrentDouble("admin", "secret", bypassLocalhost: true);
        using var updater = Updater(app);

        await updater.SetPortAsync(43210, CancellationToken.None);

        Assert.Equal(43210, app.ListenPort);
        Assert.Equal(0, app.Logins);
    }

    [Fact]
    public async Task SetPort_Forbidden_LogsInOnceThenSetsAndKeepsTheSession()
    {
        using var app = new QBittorrentDouble("admin", "s3cret pass", bypassLocalhost: false);
        using var updater = Updater(app, "s3cret pass");

        await updater.SetPortAsync(40001, CancellationToken.None);
        await updater.SetPortAsync(40002, CancellationToken.None);

        Assert.Equal(40002, app.ListenPort);
        Assert.Equal(1, app.Logins);
        Assert.Equal(
            ["POST /api/v2/app/setPreferences", "POST /api/v2/auth/login", "POST /api/v2/app/setPreferences", "POST /api/v2/app/setPreferences"],
            app.Requests);
    }

    [Fact]
    public async Task SetPort_WrongPassword_PortPublishExceptionWithoutThePassword()
    {
        using var app = new QBittorrentDouble("admin", "right", bypassLocalhost: false);
        using var updater = Updater(app, "wrong-password-xyz");

        var e = await Assert.ThrowsAsync<PortPublishException>(() => updater.SetPortAsync(40001, CancellationToken.None));

        Assert.Contains("login as 'admin' failed", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-password-xyz", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, app.ListenPort);
    }

    [Fact]
    public async Task SetPort_ForbiddenWithoutCredentials_SaysWhatToPass()
    {
        using var app = new QBittorrentDouble("admin", "right", bypassLocalhost: false);
        using var updater = Updater(app);

        var e = await Assert.ThrowsAsync<PortPublishException>(() => updater.SetPortAsync(40001, CancellationToken.None));

        Assert.Contains("--qbittorrent-user", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, app.Logins);
    }

    [Fact]
    public async Task SetPort_UrlWithPathPrefix_ApiPathsAppendToIt()
    {
        using var app = new QBittorrentDouble("admin", "right", bypassLocalhost: true);
        using var updater = new QBittorrentUpdater(new ApplicationEndpoint(ApplicationKind.QBittorrent, new Uri(app.BaseUrl, "qbt")));

        await Assert.ThrowsAsync<PortPublishException>(() => updater.SetPortAsync(40001, CancellationToken.None));

        Assert.Equal(["POST /qbt/api/v2/app/setPreferences"], app.Requests);
    }

    [Fact]
    public async Task SetPort_NobodyListening_HttpRequestException()
    {
        using var updater = new QBittorrentUpdater(new ApplicationEndpoint(ApplicationKind.QBittorrent, new Uri($"http://127.0.0.1:{AppListener.FreePort()}")));

        await Assert.ThrowsAsync<HttpRequestException>(() => updater.SetPortAsync(40001, CancellationToken.None));
    }

    /// <summary>An updater for <paramref name="app"/>; with <paramref name="password"/> it logs in as "admin".</summary>
    private QBittorrentUpdater Updater(QBittorrentDouble app, string? password = null) =>
        new(new ApplicationEndpoint(ApplicationKind.QBittorrent, app.BaseUrl)
        {
            User = password is null ? null : "admin",
            PasswordFile = password is null ? null : _passwords.Write(password),
        });

    public void Dispose() => _passwords.Dispose();
}
