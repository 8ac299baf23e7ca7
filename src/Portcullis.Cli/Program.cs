using System.CommandLine;
using Portcullis.Cli.Admin;
using Portcullis.Cli.Client;
using Portcullis.Cli.Gateway;
using Portcullis.Cli.Store;
using Portcullis.Cli.Tunnel;

namespace Portcullis.Cli;

internal static class Program
{
    private static int Main(string[] args)
    {
        var root = new RootCommand("Portcullis: a WireGuard VPN gateway and client with port forwarding done right.");
        root.Subcommands.Add(TunnelCommand.Create());
        root.Subcommands.Add(GatewayCommand.Create());
        root.Subcommands.Add(ConnectCommand.Create());
        root.Subcommands.Add(DisconnectCommand.Create());
        root.Subcommands.Add(StatusCommand.Create());
        AdminCommands.AddTo(root);
        root.Subcommands.Add(StoreCommands.Create());
        var parsed = root.Parse(args);
        var exitCode = parsed.Invoke();
        // A usage error (unknown option, missing argument) exits 2 like every check of our own, not 1, which
        // means "the operation failed": scripts can tell a typo from a refused request.
        return parsed.Errors.Count > 0 ? 2 : exitCode;
    }
}
