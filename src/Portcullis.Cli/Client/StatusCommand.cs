using System.CommandLine;
using Portcullis.Cli.Admin;
using Portcullis.Client.Connect;
using Portcullis.Client.KillSwitch;
using Portcullis.Client.Status;
using Portcullis.Gateway.Admin.Http;
using Portcullis.Linux.Links;
using Portcullis.WireGuard.Uapi;

namespace Portcullis.Cli.Client;

/// <summary>
/// `portcullis status`: on a client, its tunnel, latest handshake, forwarded port and kill switch; on a gateway, the
/// admin API's status. Which one: --interface means the client; --api/--token-file/--config (or PORTCULLIS_API) mean
/// the gateway; with neither, a running client wins, else a gateway answering at the default address, else the
/// client's report (which says nothing runs).
/// </summary>
internal static class StatusCommand
{
    // Only the "is a gateway here?" probe: a local API answers in milliseconds or not at all.
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(3);

    public static Command Create()
    {
        var name = new Option<string?>("--interface", "-i") { Description = "Only this client's interface (default: every client)." };
        var api = new ApiOptions();
        var command = new Command("status",
            "Show the client's tunnel state, latest handshake, forwarded port and kill switch; on a gateway, the gateway's status.")
        {
            name,
        };
        api.AddTo(command);
        command.SetAction(async (result, cancellationToken) =>
        {
            var only = result.GetValue(name);
            var store = new ClientStateStore(ClientState.DefaultDirectory);
            if (only is null)
            {
                if (api.Named(result))
                    return await GatewayAsync(result, api, probe: false, cancellationToken).ConfigureAwait(false) ?? 1;
                if (store.ReadAll().Count == 0 && await GatewayAsync(result, api, probe: true, cancellationToken).ConfigureAwait(false) is { } code)
                    return code;
            }
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
            Console.Write(result.GetValue(api.Json)
                ? StatusJson.Build(states, Facts, killSwitch, DateTimeOffset.UtcNow)
                : StatusReport.Build(states, Facts, killSwitch, DateTimeOffset.UtcNow));
            return 0;
        });
        return command;
    }

    /// <summary>
    /// The gateway's status and the exit code; null when probing found no gateway (no token file, nothing listening),
    /// so the client's report follows.
    /// </summary>
    private static async Task<int?> GatewayAsync(ParseResult result, ApiOptions api, bool probe, CancellationToken cancellationToken)
    {
        var target = api.Resolve(result, out var error);
        if (target is null)
        {
            await Console.Error.WriteLineAsync($"portcullis status: {error}").ConfigureAwait(false);
            return 2;
        }
        if (probe && !File.Exists(target.TokenFile))
            return null;
        try
        {
            using var client = AdminClient.Create(target, probe ? ProbeTimeout : null);
            var status = await client.GetAsync<StatusModel>("api/v1/status", cancellationToken).ConfigureAwait(false);
            Console.Write(result.GetValue(api.Json) ? status.Json + "\n" : GatewayStatusView.Text(status.Value, DateTimeOffset.UtcNow));
            return 0;
        }
        catch (AdminCliException e) when (probe && e.Status == 0)
        {
            return null;
        }
        catch (AdminCliException e)
        {
            await Console.Error.WriteLineAsync($"portcullis status: {e.Message}").ConfigureAwait(false);
            return 1;
        }
    }

    private static ClientFacts Facts(ClientState state) => new(
        Disconnector.IsAlive(state.Pid),
        Link.Exists(state.Interface),
        UapiClient.TryGet(state.Interface, TimeSpan.FromSeconds(2)) is { } device ? PeerStatus.From(device) : null);
}
