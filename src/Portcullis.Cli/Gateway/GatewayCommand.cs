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
        command.SetAction((result, cancellationToken) => OperatingSystem.IsLinux()
            ? GatewayRunner.RunAsync(result.GetValue(config)!, cancellationToken)
            : Task.FromResult(1));
        return command;
    }
}
