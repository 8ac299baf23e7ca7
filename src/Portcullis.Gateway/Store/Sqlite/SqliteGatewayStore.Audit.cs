using System.Net;
using static Portcullis.Gateway.Store.Sqlite.SqliteRows;

namespace Portcullis.Gateway.Store.Sqlite;

// One box's audit trail: the rows are AuditRows', the SQL is SQLite's (positional $1…, as AuditRows orders the values).
public sealed partial class SqliteGatewayStore : IAuditStore
{
    public Task AppendAuditAsync(IReadOnlyList<AuditChange> changes, CancellationToken cancellationToken = default)
    {
        AuditRows.Check(changes);
        if (changes.Count == 0)
            return Task.CompletedTask;
        return RunAsync(c =>
        {
            using var transaction = c.BeginTransaction(deferred: false);
            foreach (var change in changes)
            {
                if (change.Started is { } start)
                {
                    Execute(c, transaction, $"INSERT INTO audit_mappings ({AuditRows.Columns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL)",
                        Positional(AuditRows.Start(change, start, Gateway)));
                }
                else
                {
                    Execute(c, transaction,
                        "UPDATE audit_mappings SET ended_utc_ms = $1 WHERE gateway = $2 AND public_address = $3 AND protocol = $4 " +
                        "AND public_port = $5 AND ended_utc_ms IS NULL", Positional(AuditRows.End(change, Gateway)));
                }
            }
            transaction.Commit();
            return true;
        }, cancellationToken);
    }

    public Task<int> CloseOpenAuditAsync(DateTimeOffset at, CancellationToken cancellationToken = default) =>
        RunAsync(c => Execute(c, null, "UPDATE audit_mappings SET ended_utc_ms = $at WHERE gateway = $g AND ended_utc_ms IS NULL",
            ("$at", at.ToUnixTimeMilliseconds()), ("$g", Gateway)), cancellationToken);

    public Task<IReadOnlyList<AuditRecord>> FindAuditAsync(
        IPAddress publicAddress, ushort publicPort, DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        var values = Positional(AuditRows.Find(publicAddress, publicPort, at));
        return RunAsync(c => AuditRows.Answer(Query(c, null, AuditRows.Read,
            $"SELECT {AuditRows.Columns} FROM audit_mappings WHERE public_address = $1 AND public_port IN ($2, 0) AND started_utc_ms <= $3 " +
            "AND (ended_utc_ms IS NULL OR ended_utc_ms > $3) ORDER BY started_utc_ms, id", values)), cancellationToken);
    }

    public Task<int> PruneAuditAsync(DateTimeOffset endedBefore, CancellationToken cancellationToken = default) =>
        RunAsync(c => Execute(c, null, "DELETE FROM audit_mappings WHERE gateway = $g AND ended_utc_ms < $before",
            ("$g", Gateway), ("$before", endedBefore.ToUnixTimeMilliseconds())), cancellationToken);
}
