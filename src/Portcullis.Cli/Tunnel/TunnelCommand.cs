using System.CommandLine;

namespace Portcullis.Cli.Tunnel;

/// <summary>
/// `portcullis tunnel [-f] IFNAME`: the cross-platform userspace WireGuard convention (as wireguard-go), so stock
/// `wg` configures the interface and wg-quick can use us through WG_QUICK_USERSPACE_IMPLEMENTATION.
/// </summary>
internal static class TunnelCommand
{
    public static Command Create()
    {
        var foreground = new Option<bool>("--foreground", "-f")
        {
            Description = "Stay in the foreground (default: return once the interface and its UAPI socket exist).",
        };
        var name = new Argument<string>("IFNAME") { Description = "Interface name to create, at most 15 characters." };
        var command = new Command("tunnel", "Create a userspace WireGuard interface configured by stock `wg`.")
        {
            foreground,
            name,
        };
        command.SetAction(result =>
        {
            var ifname = result.GetValue(name)!;
            var foregroundEnv = Environment.GetEnvironmentVariable("WG_PROCESS_FOREGROUND") == "1";
            return result.GetValue(foreground) || foregroundEnv
                ? TunnelRunner.RunForeground(ifname)
                : TunnelRunner.RunInBackground(ifname);
        });
        return command;
    }
}
