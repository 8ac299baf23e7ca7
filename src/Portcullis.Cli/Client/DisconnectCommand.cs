using System.CommandLine;
using Portcullis.Client.Connect;
using Portcullis.Client.Status;

namespace Portcullis.Cli.Client;

/// <summary>
/// `portcullis disconnect [--interface NAME] [--unless-failed]`: stops a client and removes what it left, the kill
/// switch included. <c>--unless-failed</c> is for the client unit's ExecStop=: it does nothing when systemd says the
/// client failed ($SERVICE_RESULT), so the kill switch holds until Restart= brings the client back.
/// </summary>
internal static class DisconnectCommand
{
    public static Command Create()
    {
        var name = new Option<string?>("--interface", "-i") { Description = "Only this client's interface (default: every client)." };
        var unlessFailed = new Option<bool>("--unless-failed")
        {
            Description = "For a systemd unit's ExecStop=: do nothing when $SERVICE_RESULT says the client failed (it is about to be restarted; the kill switch holds).",
        };
        var command = new Command("disconnect", "Stop the client and remove its kill switch, routes, rules and DNS changes, also after it was killed.")
        {
            name, unlessFailed,
        };
        command.SetAction(result =>
        {
            var serviceResult = Environment.GetEnvironmentVariable(ServiceResult.Variable);
            if (result.GetValue(unlessFailed) && ServiceResult.IsFailure(serviceResult))
            {
                Console.WriteLine($"nothing done: {ServiceResult.Variable}={serviceResult}, the client failed and is restarted; the kill switch holds");
                return 0;
            }
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
