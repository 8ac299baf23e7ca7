using System.Net;
using static Portcullis.Gateway.Store.Postgres.PostgresRows;

namespace Portcullis.Gateway.Store.Postgres;

// The fleet's audit trail: every gateway writes, closes and prunes only its own rows (gateway = its name); a query
// reads every gateway's, since a public address belongs to one gateway at a time but the operator asks the fleet.
// No write lock: rows are per gateway and nothing checks across them. The rows are AuditRows', the SQL is PostgreSQL's.
public sealed partial class PostgresGatewayStore : IAuditStore
{
    public Task AppendAuditAsync(IReadOnlyList<AuditChange> changes, CancellationToken cancellationToken = default)
    {
        AuditRows.Check(changes);
        if (changes.Count == 0)
            return Task.CompletedTask;
        return RunAsync(async (c, t) =>
        {
            foreach (var change in changes)
            {
                if (change.Started is { } start)
                {
                    await ExecuteAsync(c, t, $"INSERT INTO audit_mappings ({AuditRows.Columns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL)",
                        cancellationToken, AuditRows.Start(change, start, Gateway)).ConfigureAwait(false);
                }
                else
                {
                    await ExecuteAsync(c, t,
                        "UPDATE audit_mappings SET ended_utc_ms = $1 WHERE gateway = $2 AND public_address = $3 AND protocol = $4 " +
                        "AND public_port = $5 AND ended_utc_ms IS NULL", cancellationToken, AuditRows.End(change, Gateway)).ConfigureAwait(false);
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
        var values = AuditRows.Find(publicAddress, publicPort, at);
        return ReadAsync(async (c, t) => AuditRows.Answer(await QueryAsync(c, t, AuditRows.Read,
            $"SELECT {AuditRows.Columns} FROM audit_mappings WHERE public_address = $1 AND public_port IN ($2, 0) AND started_utc_ms <= $3 " +
            "AND (ended_utc_ms IS NULL OR ended_utc_ms > $3) ORDER BY started_utc_ms, id", cancellationToken, values).ConfigureAwait(false)),
            cancellationToken);
    }

    public Task<int> PruneAuditAsync(DateTimeOffset endedBefore, CancellationToken cancellationToken = default) =>
        RunAsync((c, t) => ExecuteAsync(c, t, "DELETE FROM audit_mappings WHERE gateway = $1 AND ended_utc_ms < $2",
            cancellationToken, Gateway, endedBefore.ToUnixTimeMilliseconds()), locked: false, cancellationToken);
}
