using System.CommandLine;
using System.Globalization;
using Portcullis.Gateway.Admin.Http;

namespace Portcullis.Cli.Admin;

/// <summary>
/// `portcullis gateway list [--json]`: the fleet's gateways as their shared store's status board holds them — name,
/// region, up or when last seen, peers connected, mappings, version. Asked of any gateway of the fleet.
/// </summary>
internal static class FleetCommands
{
    public static Command List()
    {
        var api = new ApiOptions();
        var command = new Command("list", "List the fleet's gateways: region, up or last seen, peers connected, mappings, version.");
        api.AddTo(command);
        AdminAction.Set(command, "gateway list", api, async (result, client, cancellationToken) =>
        {
            var gateways = await client.GetAsync<GatewayModel[]>("api/v1/gateways", cancellationToken).ConfigureAwait(false);
            if (result.GetValue(api.Json))
            {
                Console.WriteLine(gateways.Json);
                return 0;
            }
            if (gateways.Value.Length == 0)
            {
                Console.WriteLine("This gateway is not part of a fleet (its store is SQLite): see `portcullis status`.");
                return 0;
            }
            Console.Write(Table(gateways.Value, DateTimeOffset.UtcNow));
            return 0;
        });
        return command;
    }

    internal static string Table(IReadOnlyList<GatewayModel> gateways, DateTimeOffset now)
    {
        var table = new TextTable("NAME", "REGION", "STATE", "LAST SEEN", "PEERS", "MAPPINGS", "STATIC LIVE", "ADDRESS", "VERSION");
        foreach (var g in gateways)
        {
            table.Add(g.Name, g.Region.Length == 0 ? "-" : g.Region, g.Up ? "up" : "down", Formats.Ago(g.LastSeenUtc, now),
                Count(g.ConnectedPeers), Count(g.DynamicMappings), Count(g.LiveStaticForwards), g.DefaultAddress ?? "-", g.Version);
        }
        return table.ToString();
    }

    private static string Count(int n) => n.ToString(CultureInfo.InvariantCulture);
}
