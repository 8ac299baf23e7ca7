using Microsoft.Extensions.Logging;
using Portcullis.Client.PortForwarding;

namespace Portcullis.Client.Tests.PortForwarding;

public sealed class PortChangeHookTests
{
    [Fact]
    public void Expand_EveryPlaceholder_Replaced()
    {
        Assert.Equal("set 31337 and 31337 {Port}", PortChangeHook.Expand("set {port} and {port} {Port}", 31337));
    }

    [Fact]
    public async Task RunAsync_PortInEnvironmentAndText_OutputLogged()
    {
        var logger = new CapturingLogger();

        var code = await PortChangeHook.RunAsync("echo env=$PORTCULLIS_PORT text={port}; echo oops >&2", 40001, TimeSpan.FromSeconds(10), logger, CancellationToken.None);

        Assert.Equal(0, code);
        Assert.Contains("--on-port-change: env=40001 text=40001", logger.Messages);
        Assert.Contains("--on-port-change: oops", logger.Messages);
    }

    [Fact]
    public async Task RunAsync_FailingCommand_ExitCodeReturnedAndLoggedNotThrown()
    {
        var logger = new CapturingLogger();

        var code = await PortChangeHook.RunAsync("exit 3", 1, TimeSpan.FromSeconds(10), logger, CancellationToken.None);

        Assert.Equal(3, code);
        Assert.Contains(logger.Messages, l => l.Contains("exit code 3", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RunAsync_PastTheTimeLimit_KilledAndReportedNull()
    {
        var logger = new CapturingLogger();
        var started = DateTime.UtcNow;

        var code = await PortChangeHook.RunAsync("sleep 30", 1, TimeSpan.FromMilliseconds(300), logger, CancellationToken.None);

        Assert.Null(code);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10));
        Assert.Contains(logger.Messages, l => l.Contains("killed", StringComparison.Ordinal));
    }
}
