using System.Net;
using Npgsql;
using Portcullis.PortMapping;
using static Portcullis.Gateway.Store.Postgres.PostgresRows;

namespace Portcullis.Gateway.Store.Postgres;

// The fleet's audit trail: every gateway writes, closes and prunes only its own rows (gateway = its name); a query
// reads every gateway's, since a public address belongs to one gateway at a time but the operator asks the fleet.
// No write lock: rows are per gateway and nothing checks across them.
public sealed partial class PostgresGatewayStore : IAuditStore
{
    private const string AuditColumns =
        "public_address, protocol, public_port, tunnel_address, internal_port, peer_id, peer_name, gateway, started_utc_ms, ended_utc_ms";

    public Task AppendAuditAsync(IReadOnlyList<AuditChange> changes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(changes);
        if (changes.Count == 0)
            return Task.CompletedTask;
        return RunAsync(async (c, t) =>
        {
            foreach (var change in changes)
            {
                var at = change.At.ToUnixTimeMilliseconds();
                if (change.Started is { } start)
                {
                    await ExecuteAsync(c, t,
                        $"INSERT INTO audit_mappings ({AuditColumns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL)", cancellationToken,
                        Text(change.PublicAddress), Text(change.Protocol), (int)change.PublicPort, Text(start.TunnelAddress),
                        (int)start.InternalPort, start.PeerId, start.PeerName, Gateway, at).ConfigureAwait(false);
                }
                else
                {
                    await ExecuteAsync(c, t,
                        "UPDATE audit_mappings SET ended_utc_ms = $1 WHERE gateway = $2 AND public_address = $3 AND protocol = $4 " +
                        "AND public_port = $5 AND ended_utc_ms IS NULL", cancellationToken,
                        at, Gateway, Text(change.PublicAddress), Text(change.Protocol), (int)change.PublicPort).ConfigureAwait(false);
                }
            }
            return true;
        }, locked: false, cancellationToken);
    }

    public Task<int> CloseOpenAuditAsync(DateTimeOffset at, CancellationToken cancellationToken = default) =>
        RunAsync((c, t) => ExecuteAsync(c, t, "UPDATE audit_mappings SET ended_utc_ms = $1 WHERE gateway = $2 AND ended_utc_ms IS NULL",
            cancellationToken, at.ToUnixTimeMilliseconds(), Gateway), locked: false, cancellationToken);

    public Task<IReadOnlyList<AuditRecord>> FindAuditAsync(
        IPAddress publicAddress, ushort publicPort, DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(publicAddress);
        return ReadAsync(async (c, t) => AuditRecord.Answer(await QueryAsync(c, t, AuditRow,
            $"SELECT {AuditColumns} FROM audit_mappings WHERE public_address = $1 AND public_port IN ($2, 0) AND started_utc_ms <= $3 " +
            "AND (ended_utc_ms IS NULL OR ended_utc_ms > $3) ORDER BY started_utc_ms, id",
            cancellationToken, Text(publicAddress), (int)publicPort, at.ToUnixTimeMilliseconds()).ConfigureAwait(false)), cancellationToken);
    }

    public Task<int> PruneAuditAsync(DateTimeOffset endedBefore, CancellationToken cancellationToken = default) =>
        RunAsync((c, t) => ExecuteAsync(c, t, "DELETE FROM audit_mappings WHERE gateway = $1 AND ended_utc_ms < $2",
            cancellationToken, Gateway, endedBefore.ToUnixTimeMilliseconds()), locked: false, cancellationToken);

    private static AuditRecord AuditRow(NpgsqlDataReader row) => new(
        IPAddress.Parse(row.GetString(0)),
        row.GetString(1) == "tcp" ? MappingProtocol.Tcp : MappingProtocol.Udp,
        (ushort)row.GetInt32(2),
        IPAddress.Parse(row.GetString(3)),
        (ushort)row.GetInt32(4),
        row.GetString(5),
        row.IsDBNull(6) ? null : row.GetString(6),
        row.GetString(7),
        DateTimeOffset.FromUnixTimeMilliseconds(row.GetInt64(8)),
        row.IsDBNull(9) ? null : DateTimeOffset.FromUnixTimeMilliseconds(row.GetInt64(9)));
}
