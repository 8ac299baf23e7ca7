using System.CommandLine;
using Portcullis.Client.Connect;
using Portcullis.Client.KillSwitch;
using Portcullis.Client.Status;

namespace Portcullis.Cli.Client;

/// <summary>`portcullis status`: the client's tunnel, latest handshake, forwarded port and kill switch.</summary>
internal static class StatusCommand
{
    public static Command Create()
    {
        var name = new Option<string?>("--interface", "-i") { Description = "Only this client's interface (default: every client)." };
        var command = new Command("status", "Show the client's tunnel state, latest handshake, forwarded port and kill switch.")
        {
            name,
        };
        command.SetAction(result =>
        {
            var store = new ClientStateStore(ClientState.DefaultDirectory);
            var only = result.GetValue(name);
            var states = only is null ? store.ReadAll() : store.Read(only) is { } s ? [s] : [];
            bool killSwitch;
            try
            {
                killSwitch = KillSwitchTable.IsInstalled();
            }
            catch (Linux.Nftables.NftException e)
            {
                Console.Error.WriteLine($"portcullis status: cannot read nftables: {e.Message}");
                return 1;
            }
            Console.Write(StatusReport.Build(states, Facts, killSwitch, DateTimeOffset.UtcNow));
            return 0;
        });
        return command;
    }

    private static ClientFacts Facts(ClientState state) => new(
        Disconnector.IsAlive(state.Pid),
        Directory.Exists($"/sys/class/net/{state.Interface}"),
        UapiQuery.TryGetPeers(state.Interface, TimeSpan.FromSeconds(2)));
}
