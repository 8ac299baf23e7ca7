using System.CommandLine;

namespace Portcullis.Cli.Gateway;

/// <summary>`portcullis gateway --config FILE`: the gateway in the foreground (DESIGN §6).</summary>
internal static class GatewayCommand
{
    public static Command Create()
    {
        var config = new Option<string>("--config", "-c")
        {
            Description = "The gateway's TOML configuration file.",
            Required = true,
        };
        var command = new Command("gateway",
            "Run the gateway in the foreground: the WireGuard tunnel, address management, NAT and port forwarding (NAT-PMP/PCP).")
        {
            config,
        };
        // A synchronous action on purpose: System.CommandLine gives an action with a CancellationToken only a short
        // grace after SIGTERM before it returns from Main, which could cut the gateway's cleanup (uninstalling the
        // table, flushing conntrack) short. The runner handles SIGTERM/SIGINT itself and takes the time it needs.
        command.SetAction(result => OperatingSystem.IsLinux()
            ? GatewayRunner.RunAsync(result.GetValue(config)!, CancellationToken.None).GetAwaiter().GetResult()
            : 1);
        return command;
    }
}
