using System.CommandLine;
using System.Globalization;
using Portcullis.Gateway.Admin.Http;

namespace Portcullis.Cli.Admin;

/// <summary>`portcullis mapping list`, `mapping revoke ADDRESS PROTOCOL PORT`: the dynamic (PCP/NAT-PMP) mappings.</summary>
internal static class MappingCommands
{
    public static Command Create()
    {
        var api = new ApiOptions();
        var command = new Command("mapping", "Show or revoke the dynamic port mappings clients asked for (PCP/NAT-PMP).");
        api.AddTo(command);

        var list = new Command("list", "List the live dynamic mappings.");
        AdminAction.Set(list, "mapping list", api, async (result, client, cancellationToken) =>
        {
            var mappings = await client.GetAsync<MappingModel[]>("api/v1/mappings", cancellationToken).ConfigureAwait(false);
            Console.Write(result.GetValue(api.Json) ? mappings.Json + "\n" : Table(mappings.Value, DateTimeOffset.UtcNow));
            return 0;
        });

        var (address, protocol, port) = KeyArguments.Create("The mapping's public address.");
        var revoke = new Command("revoke", "End a dynamic mapping and its connections now.") { address, protocol, port };
        AdminAction.Set(revoke, "mapping revoke", api, async (result, client, cancellationToken) =>
        {
            var key = KeyArguments.Path(result, address, protocol, port);
            await client.SendAsync(HttpMethod.Delete, $"api/v1/mappings/{key}", cancellationToken).ConfigureAwait(false);
            Console.WriteLine($"Revoked mapping {key.Replace('/', ' ')}.");
            return 0;
        });

        command.Subcommands.Add(list);
        command.Subcommands.Add(revoke);
        return command;
    }

    private static string Table(IReadOnlyList<MappingModel> mappings, DateTimeOffset now)
    {
        var table = new TextTable("PUBLIC ADDRESS", "PROTO", "PORT", "PEER", "TUNNEL", "INTERNAL", "EXPIRES IN");
        foreach (var m in mappings)
        {
            table.Add(m.PublicAddress, m.Protocol, m.PublicPort.ToString(CultureInfo.InvariantCulture), m.PeerName ?? m.PeerId,
                m.TunnelAddress, m.InternalPort.ToString(CultureInfo.InvariantCulture), Formats.In(m.ExpiresUtc, now));
        }
        return table.ToString();
    }
}
