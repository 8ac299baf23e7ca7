using System.CommandLine;
using Portcullis.Client.Connect;
using Portcullis.Client.Status;

namespace Portcullis.Cli.Client;

/// <summary>`portcullis disconnect [--interface NAME]`: stops a client and removes what it left, the kill switch included.</summary>
internal static class DisconnectCommand
{
    public static Command Create()
    {
        var name = new Option<string?>("--interface", "-i") { Description = "Only this client's interface (default: every client)." };
        var command = new Command("disconnect", "Stop the client and remove its kill switch, routes, rules and DNS changes, also after it was killed.")
        {
            name,
        };
        command.SetAction(result =>
        {
            try
            {
                foreach (var line in Disconnector.Run(ClientState.DefaultDirectory, result.GetValue(name)))
                    Console.WriteLine(line);
                return 0;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or Linux.Nftables.NftException)
            {
                Console.Error.WriteLine($"portcullis disconnect: {e.Message}");
                return 1;
            }
        });
        return command;
    }
}
