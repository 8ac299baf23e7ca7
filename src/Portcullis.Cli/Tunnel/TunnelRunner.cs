using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Portcullis.Cli.Hosting;
using Portcullis.Linux.Links;
using Portcullis.Linux.Tun;
using Portcullis.Linux.Udp;
using Portcullis.WireGuard.Device;
using Portcullis.WireGuard.Uapi;

namespace Portcullis.Cli.Tunnel;

/// <summary>Runs one userspace WireGuard interface: TUN + device + UAPI socket, until a signal or the interface goes.</summary>
internal static partial class TunnelRunner
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(15);

    public static int RunForeground(string name)
    {
        using var loggers = Logging.CreateFactory();
        var log = loggers.CreateLogger("portcullis.tunnel");
        LinuxTun tun;
        try
        {
            tun = LinuxTun.Create(name, offload: OffloadWanted());
        }
        catch (Exception e) when (e is ArgumentException or IOException or Linux.LinuxCallException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"portcullis tunnel: cannot create interface {name}: {e.Message}");
            return 1;
        }
        if (tun.Offloads.Refused != 0 || !tun.Offloads.VnetHeader)
            log.OffloadsLimited(name, tun.Offloads.ToString());
        using var device = new WireGuardDevice(tun, new LinuxBindFactory
        {
            Offload = OffloadWanted(),
            OffloadRefused = what => log.OffloadsLimited(name, what),
        }, loggers.CreateLogger("portcullis.device"));
        using var stop = new ManualResetEventSlim();
        // `ip link del IFNAME` (as wg-quick down does), or deleting the namespace it lives in, detaches the TUN
        // descriptor: then we are done too. Moving the interface to another namespace (wireguard.com/netns) does
        // not, so the name vanishing from our namespace is no reason to stop.
        device.TunClosed += () =>
        {
            log.InterfaceRemoved(name);
            stop.Set();
        };
        device.Up();
        using var uapi = UapiServer.Start(name, device, loggers.CreateLogger("portcullis.uapi"));

        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Set(); });
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Set(); });
        stop.Wait();
        return 0;
    }

    /// <summary>
    /// Starts ourselves in the foreground as a detached child (new session, no terminal) and returns once its UAPI
    /// socket exists, as wireguard-go does without -f. The child's early errors are shown if it fails to start.
    /// </summary>
    public static int RunInBackground(string name)
    {
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("cannot find our own executable");
        var socket = UapiSocket.PathFor(name);
        var errors = Path.Combine(Path.GetTempPath(), $"portcullis-tunnel-{name}-{Environment.ProcessId}.log");
        var start = new ProcessStartInfo("/bin/sh")
        {
            UseShellExecute = false,
            ArgumentList =
            {
                "-c", "exec setsid \"$0\" tunnel --foreground \"$1\" </dev/null >/dev/null 2>\"$2\" &",
                self, name, errors,
            },
        };
        start.Environment["LOG_LEVEL"] = Environment.GetEnvironmentVariable("LOG_LEVEL") ?? "error";
        using (var launcher = Process.Start(start)!)
            launcher.WaitForExit();
        var deadline = DateTime.UtcNow + StartTimeout;
        try
        {
            while (DateTime.UtcNow < deadline)
            {
                if (File.Exists(socket) && Link.Exists(name))
                    return 0;
                if (File.Exists(errors) && new FileInfo(errors).Length > 0 && !File.Exists(socket))
                {
                    Thread.Sleep(200);
                    if (!File.Exists(socket))
                    {
                        Console.Error.Write(File.ReadAllText(errors));
                        return 1;
                    }
                }
                Thread.Sleep(50);
            }
            Console.Error.WriteLine($"portcullis tunnel: {name} did not come up within {StartTimeout.TotalSeconds} s");
            return 1;
        }
        finally
        {
            TryDelete(errors);
        }
    }

    /// <summary>PORTCULLIS_TUN_OFFLOAD=off turns the TUN offloads off (for comparisons and as an escape hatch).</summary>
    internal const string OffloadVariable = "PORTCULLIS_TUN_OFFLOAD";

    private static bool OffloadWanted() =>
        !string.Equals(Environment.GetEnvironmentVariable(OffloadVariable), "off", StringComparison.OrdinalIgnoreCase);

    // The tunnel command's event ids: 2000–2019.
    [LoggerMessage(2001, LogLevel.Information, "Interface {Interface} offloads: {Offloads}")]
    private static partial void OffloadsLimited(this ILogger logger, string @interface, string offloads);

    [LoggerMessage(2000, LogLevel.Information, "Interface {Interface} was removed; shutting down")]
    private static partial void InterfaceRemoved(this ILogger logger, string @interface);

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
    }
}
