using System.CommandLine;

namespace Portcullis.Cli.Admin;

/// <summary>The operator's commands over a gateway's admin API.</summary>
internal static class AdminCommands
{
    public static void AddTo(RootCommand root)
    {
        ArgumentNullException.ThrowIfNull(root);
        root.Subcommands.Add(PeerCommands.Create());
        root.Subcommands.Add(ForwardCommands.Create());
        root.Subcommands.Add(MappingCommands.Create());
        root.Subcommands.Add(PolicyCommands.Create());
    }
}
