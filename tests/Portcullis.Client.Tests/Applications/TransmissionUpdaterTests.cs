using Portcullis.Client.Applications;

namespace Portcullis.Client.Tests.Applications;

public sealed class TransmissionUpdaterTests : IDisposable
{
    private readonly PasswordFiles _passwords = new("pc-tr-");

    [Fact]
    public async Task SetPort_SessionIdHandshake_409ThenSessionSetWithPeerPort()
    {
        using var app = new TransmissionDouble();
        using var updater = Updater(app);

        await updater.SetPortAsync(51413, CancellationToken.None);
        await updater.SetPortAsync(51414, CancellationToken.None);

        Assert.Equal(51414, app.PeerPort);
        // The session id is kept: only the first request meets the 409.
        Assert.Equal(3, app.Requests.Count);
    }

    [Fact]
    public async Task SetPort_TransmissionRestartedWithNewSession_HandshakeAgain()
    {
        using var app = new TransmissionDouble();
        using var updater = Updater(app);
        await updater.SetPortAsync(51413, CancellationToken.None);

        app.NewSession();
        await updater.SetPortAsync(51500, CancellationToken.None);

        Assert.Equal(51500, app.PeerPort);
    }

    [Fact]
    public async Task SetPort_BasicAuth_SetsPort()
    {
        using var app = new TransmissionDouble("transmission", "pa:ss word");
        using var updater = Updater(app, "pa:ss word");

        await updater.SetPortAsync(40404, CancellationToken.None);

        Assert.Equal(40404, app.PeerPort);
    }

    [Fact]
    public async Task SetPort_WrongPassword_PortPublishExceptionWithoutThePassword()
    {
        using var app = new TransmissionDouble("transmission", "right");
        using var updater = Updater(app, "wrong-password-xyz");

        var e = await Assert.ThrowsAsync<PortPublishException>(() => updater.SetPortAsync(40404, CancellationToken.None));

        Assert.Contains("401", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-password-xyz", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, app.PeerPort);
    }

    [Fact]
    public async Task SetPort_ResultNotSuccess_PortPublishExceptionWithTheResult()
    {
        using var app = new TransmissionDouble { NextResult = "peer-port out of range" };
        using var updater = Updater(app);

        var e = await Assert.ThrowsAsync<PortPublishException>(() => updater.SetPortAsync(40404, CancellationToken.None));

        Assert.Contains("peer-port out of range", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"result\":\"success\"}", "success")]
    [InlineData("{\"arguments\":{}}", "an answer without a result")]
    [InlineData("[1,2]", "an answer without a result")]
    [InlineData("{\"result\":7}", "an answer without a result")]
    [InlineData("<html>", "an answer that is not JSON")]
    [InlineData("", "an answer that is not JSON")]
    public void ReadResult_AnyAnswer_ResultOrDescriptionNeverThrows(string json, string expected)
    {
        Assert.Equal(expected, TransmissionUpdater.ReadResult(json));
    }

    /// <summary>An updater for <paramref name="app"/>; with <paramref name="password"/> it authenticates as "transmission".</summary>
    private TransmissionUpdater Updater(TransmissionDouble app, string? password = null) =>
        new(new ApplicationEndpoint(ApplicationKind.Transmission, app.RpcUrl)
        {
            User = password is null ? null : "transmission",
            PasswordFile = password is null ? null : _passwords.Write(password),
        });

    public void Dispose() => _passwords.Dispose();
}
