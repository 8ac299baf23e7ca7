using Microsoft.Extensions.Logging;
using Portcullis.Client.Applications;

namespace Portcullis.Client.Tests.Applications;

// The retry loop against a real updater and an application that is down, then comes up.
public sealed class PortPublicationTests
{
    private static async Task Eventually(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                Assert.Fail("timed out waiting for: " + what);
            await Task.Delay(20);
        }
    }

    private static PortPublication Publication(IPortPublisher publisher, ILogger logger) =>
        new(publisher, logger) { RetryInitial = TimeSpan.FromMilliseconds(50), RetryMax = TimeSpan.FromMilliseconds(200) };

    [Fact]
    public async Task Publish_ApplicationDownThenUp_RetriedUntilItHasTheLatestPort()
    {
        var port = AppListener.FreePort();
        var log = new CapturingLogger();
        using var updater = new TransmissionUpdater(new ApplicationEndpoint(ApplicationKind.Transmission, new Uri($"http://127.0.0.1:{port}/transmission/rpc")));
        await using var publication = Publication(updater, log);

        publication.Publish(41000);
        await Eventually(() => log.Count(LogLevel.Warning) >= 2, "two failed attempts logged");
        publication.Publish(41001);
        using var app = new TransmissionDouble(port: port);

        await Eventually(() => publication.Confirmed == 41001, "the latest port accepted");
        Assert.Equal(41001, app.PeerPort);
        Assert.Contains(log.Messages, l => l.Contains("Transmission: could not set the listening port to 41000", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Publish_SamePortAgain_ApplicationNotAskedTwice()
    {
        using var app = new TransmissionDouble();
        using var updater = new TransmissionUpdater(new ApplicationEndpoint(ApplicationKind.Transmission, app.RpcUrl));
        await using var publication = Publication(updater, new CapturingLogger());

        publication.Publish(41000);
        await Eventually(() => publication.Confirmed == 41000, "accepted");
        var requests = app.Requests.Count;
        publication.Publish(41000);
        await Task.Delay(200);

        Assert.Equal(requests, app.Requests.Count);
    }

    [Fact]
    public async Task Publish_LoginRefused_NotRetriedUntilThePortChanges()
    {
        using var app = new QBittorrentDouble("admin", "right", bypassLocalhost: false);
        var directory = Directory.CreateTempSubdirectory("pc-pub-").FullName;
        try
        {
            var passwordFile = Path.Combine(directory, "pw");
            await File.WriteAllTextAsync(passwordFile, "hunter2-secret\n");
            using var updater = new QBittorrentUpdater(new ApplicationEndpoint(ApplicationKind.QBittorrent, app.BaseUrl) { User = "admin", PasswordFile = passwordFile });
            var log = new CapturingLogger();
            await using var publication = Publication(updater, log);

            publication.Publish(41000);
            await Eventually(() => log.Count(LogLevel.Error) == 1, "the refusal logged as an error");
            await Task.Delay(500); // 50 ms backoff: several retries would have happened by now
            Assert.Equal(1, app.Logins);

            publication.Publish(41001);
            await Eventually(() => app.Logins == 2, "a new port tries again");
            Assert.Null(publication.Confirmed);
            Assert.DoesNotContain(log.Messages, l => l.Contains("hunter2", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Publish_PublisherThrowsUnexpectedly_LoggedAndRetriedNeverThrown()
    {
        var publisher = new ThrowingPublisher(failures: 2);
        var log = new CapturingLogger();
        await using (var publication = Publication(publisher, log))
        {
            publication.Publish(42000);
            await Eventually(() => publication.Confirmed == 42000, "third attempt accepted");
        }
        Assert.Equal(3, publisher.Calls);
        Assert.Contains(log.Messages, l => l.Contains("InvalidOperationException", StringComparison.Ordinal));
    }

    private sealed class ThrowingPublisher(int failures) : IPortPublisher
    {
        public int Calls { get; private set; }

        public string Name => "broken";

        public Task SetPortAsync(ushort port, CancellationToken cancellationToken) =>
            ++Calls <= failures ? throw new InvalidOperationException("bug") : Task.CompletedTask;

        public void Dispose()
        {
        }
    }
}
