using System.Net.Sockets;
using System.Text;
using Portcullis.Linux.Systemd;

namespace Portcullis.Linux.Tests.Systemd;

// What systemd would read from NOTIFY_SOCKET: a unix datagram socket of the test's own, by path and by abstract name.
public sealed class ServiceNotifierTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("pcl-notify-").FullName;

    [Fact]
    public void Ready_PathSocket_SendsReadyStatusAndMainPid()
    {
        var path = Path.Combine(_directory, "notify");
        using var manager = Listen(path);
        using var notifier = new ServiceNotifier(path, null);

        notifier.Ready("serving pc0");

        var message = Receive(manager);
        Assert.Equal(["READY=1", "STATUS=serving pc0", $"MAINPID={Environment.ProcessId}"], message.Split('\n'));
        Assert.True(notifier.Enabled);
    }

    [Fact]
    public void StoppingAndWatchdog_AbstractSocket_ArriveInOrder()
    {
        var name = $"pcl-notify-{Guid.NewGuid():N}";
        using var manager = Listen("\0" + name);
        using var notifier = new ServiceNotifier("@" + name, null);

        notifier.Watchdog();
        notifier.Stopping();

        Assert.Equal("WATCHDOG=1", Receive(manager));
        Assert.Equal("STOPPING=1", Receive(manager));
    }

    [Fact]
    public async Task RunWatchdog_WatchdogUsecSet_PingsUntilCancelled()
    {
        var path = Path.Combine(_directory, "watchdog");
        using var manager = Listen(path);
        using var notifier = new ServiceNotifier(path, "100000");
        using var stop = new CancellationTokenSource();

        var loop = notifier.RunWatchdogAsync(stop.Token);

        Assert.Equal(TimeSpan.FromMilliseconds(100), notifier.WatchdogInterval);
        Assert.Equal("WATCHDOG=1", Receive(manager));
        Assert.Equal("WATCHDOG=1", Receive(manager));
        await stop.CancelAsync();
        await loop.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("relative/path")]
    public void Ready_NoUsableNotifySocket_DoesNothing(string? socket)
    {
        using var notifier = new ServiceNotifier(socket, "100000");

        notifier.Ready("x");
        notifier.Stopping();

        Assert.False(notifier.Enabled);
    }

    [Fact]
    public void Ready_ManagerGone_DoesNotThrow()
    {
        using var notifier = new ServiceNotifier(Path.Combine(_directory, "nobody"), "nonsense");

        notifier.Ready("x");
        notifier.Watchdog();

        Assert.True(notifier.Enabled);
        Assert.Null(notifier.WatchdogInterval);
    }

    private static Socket Listen(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        socket.ReceiveTimeout = 10_000;
        return socket;
    }

    private static string Receive(Socket socket)
    {
        var buffer = new byte[4096];
        var length = socket.Receive(buffer);
        return Encoding.UTF8.GetString(buffer, 0, length);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
