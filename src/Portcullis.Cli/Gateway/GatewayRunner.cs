using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Portcullis.Cli.Hosting;
using Portcullis.Gateway.Configuration;
using Portcullis.Gateway.Hosting;
using Portcullis.Linux.Systemd;

namespace Portcullis.Cli.Gateway;

/// <summary>
/// Loads the config (errors: the message, exit 2), starts the <see cref="GatewayHost"/> (failure: exit 1), runs until
/// SIGTERM or SIGINT, then stops it cleanly (exit 0).
/// Prerequisites on a real host: root (or CAP_NET_ADMIN) for the TUN, nftables and /proc/sys/net/ipv4/ip_forward,
/// which the gateway switches on for the whole network namespace it runs in.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal static partial class GatewayRunner
{
    public const int ConfigError = 2;

    public static async Task<int> RunAsync(string path, CancellationToken cancellationToken)
    {
        GatewayConfig config;
        try
        {
            config = GatewayConfigLoader.Load(path);
        }
        catch (GatewayConfigException e)
        {
            await Console.Error.WriteLineAsync(e.Message).ConfigureAwait(false);
            return ConfigError;
        }

        try
        {
            return await RunAsync(config, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(config.Tunnel.PrivateKey);
        }
    }

    private static async Task<int> RunAsync(GatewayConfig config, CancellationToken cancellationToken)
    {
        using var loggers = Logging.CreateFactory();
        var log = loggers.CreateLogger("portcullis.gateway");
        using var stop = new CancellationTokenSource();
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stop.Token, cancellationToken);
        using var notifier = ServiceNotifier.FromEnvironment();

        GatewayHost host;
        try
        {
            host = await GatewayHost.StartAsync(config, loggers, linked.Token).ConfigureAwait(false);
        }
        catch (GatewayConfigException e)
        {
            await Console.Error.WriteLineAsync(e.Message).ConfigureAwait(false);
            return ConfigError;
        }
        catch (Exception e) when (e is not OutOfMemoryException and not OperationCanceledException)
        {
            StartFailed(log, e);
            await Console.Error.WriteLineAsync($"portcullis gateway: cannot start: {e.Message}").ConfigureAwait(false);
            return 1;
        }

        await using (host.ConfigureAwait(false))
        {
            // systemd (Type=notify) learns that the gateway serves only now, and that it is stopping before the
            // teardown begins; WatchdogSec= gets its keep-alives from here.
            notifier.Ready($"serving {config.Tunnel.Interface}");
            var watchdog = notifier.RunWatchdogAsync(linked.Token);
            try
            {
                await Task.Delay(Timeout.Infinite, linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
            notifier.Stopping();
            await watchdog.ConfigureAwait(false);
        }
        return 0;
    }

    // The gateway command's event ids: 6010–6019 (beside the host's 6000–6009).
    [LoggerMessage(6010, LogLevel.Error, "Gateway failed to start")]
    private static partial void StartFailed(ILogger logger, Exception exception);
}
