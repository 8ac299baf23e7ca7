using System.CommandLine;

namespace Portcullis.Cli.Gateway;

/// <summary>
/// `portcullis gateway --config FILE`: the gateway in the foreground (DESIGN §6); `portcullis gateway list`: the
/// gateways of its fleet, over the admin API.
/// </summary>
internal static class GatewayCommand
{
    public static Command Create()
    {
        var config = new Option<string>("--config", "-c")
        {
            Description = "The gateway's TOML configuration file (required to run the gateway).",
        };
        var command = new Command("gateway",
            "Run the gateway in the foreground: the WireGuard tunnel, address management, NAT and port forwarding (NAT-PMP/PCP).")
        {
            config,
        };
        command.Subcommands.Add(Admin.FleetCommands.List());
        // A synchronous action on purpose: System.CommandLine gives an action with a CancellationToken only a short
        // grace after SIGTERM before it returns from Main, which could cut the gateway's cleanup (uninstalling the
        // table, flushing conntrack) short. The runner handles SIGTERM/SIGINT itself and takes the time it needs.
        // --config is checked here rather than marked required, so `gateway list` (which has a --config of its own,
        // the file it reads the admin API from) does not need the running gateway's option.
        command.SetAction(result =>
        {
            if (result.GetValue(config) is not { } path)
            {
                Console.Error.WriteLine("portcullis gateway: option '--config' is required (or run `portcullis gateway list`).");
                return 2;
            }
            return OperatingSystem.IsLinux() ? GatewayRunner.RunAsync(path, CancellationToken.None).GetAwaiter().GetResult() : 1;
        });
        return command;
    }
}
