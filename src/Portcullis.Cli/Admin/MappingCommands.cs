using System.CommandLine;
using System.Globalization;
using Portcullis.Gateway.Admin.Http;

namespace Portcullis.Cli.Admin;

/// <summary>
/// `portcullis mapping list`, `mapping revoke ADDRESS PROTOCOL PORT`: the dynamic (PCP/NAT-PMP) mappings;
/// `mapping who PUBLIC:PORT --at TIME`: who held a public port then, from the opt-in audit trail.
/// </summary>
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

        var endpoint = new Argument<string>("PUBLIC:PORT") { Description = "The public address and port, e.g. 198.51.100.10:31337." };
        var at = new Option<string>("--at")
        {
            Description = "When: an RFC 3339 time, e.g. 2026-12-07T14:00:00Z (UTC when it has no offset).",
            Required = true,
        };
        var who = new Command("who", "Who held a public port at a time, from the audit trail ([forwarding] audit_log; refused when it is off).")
        {
            endpoint, at,
        };
        AdminAction.Set(who, "mapping who", api, async (result, client, cancellationToken) =>
        {
            var text = result.GetValue(endpoint)!;
            var time = result.GetValue(at)!;
            if (!System.Net.IPEndPoint.TryParse(text, out var parsed) || parsed.Port == 0)
                throw new UsageException($"PUBLIC:PORT '{text}' is not an address and port, e.g. 198.51.100.10:31337");
            if (!DateTimeOffset.TryParse(time, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _))
                throw new UsageException($"--at '{time}' is not a time; expected RFC 3339, e.g. 2026-12-07T14:00:00Z");
            var records = await client.GetAsync<AuditRecordModel[]>(
                $"api/v1/mappings/who?public={Uri.EscapeDataString(text)}&at={Uri.EscapeDataString(time)}", cancellationToken).ConfigureAwait(false);
            if (result.GetValue(api.Json))
                Console.Write(records.Json + "\n");
            else if (records.Value.Length == 0)
                Console.WriteLine($"Nobody held {text} at {time}, as far as the audit trail goes.");
            else
                Console.Write(WhoTable(records.Value));
            return 0;
        });

        command.Subcommands.Add(list);
        command.Subcommands.Add(revoke);
        command.Subcommands.Add(who);
        return command;
    }

    private static string WhoTable(IReadOnlyList<AuditRecordModel> records)
    {
        var table = new TextTable("PEER", "PEER ID", "PROTO", "PUBLIC", "TUNNEL", "FROM (UTC)", "UNTIL (UTC)");
        foreach (var r in records)
        {
            // Port 0: a dedicated address, every port of it (its egress, and inbound where no mapping held the port).
            var every = r.PublicPort == 0;
            table.Add(r.PeerName ?? "-", r.PeerId, r.Protocol, $"{r.PublicAddress}:{(every ? "*" : r.PublicPort)}",
                $"{r.TunnelAddress}:{(every ? "*" : r.InternalPort)}",
                r.StartedUtc.UtcDateTime.ToString("u", CultureInfo.InvariantCulture),
                r.EndedUtc is { } ended ? ended.UtcDateTime.ToString("u", CultureInfo.InvariantCulture) : "still held");
        }
        return table.ToString();
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
