using System.Net;
using Microsoft.Data.Sqlite;
using Portcullis.PortMapping;
using static Portcullis.Gateway.Store.Sqlite.SqliteRows;

namespace Portcullis.Gateway.Store.Sqlite;

public sealed partial class SqliteGatewayStore : IAuditStore
{
    private const string AuditColumns =
        "public_address, protocol, public_port, tunnel_address, internal_port, peer_id, peer_name, gateway, started_utc_ms, ended_utc_ms";

    public Task AppendAuditAsync(IReadOnlyList<AuditChange> changes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(changes);
        if (changes.Count == 0)
            return Task.CompletedTask;
        return RunAsync(c =>
        {
            using var transaction = c.BeginTransaction(deferred: false);
            foreach (var change in changes)
            {
                var at = change.At.ToUnixTimeMilliseconds();
                if (change.Started is { } start)
                {
                    Execute(c, transaction,
                        $"INSERT INTO audit_mappings ({AuditColumns}) VALUES ($a, $p, $port, $t, $i, $peer, $name, $g, $at, NULL)",
                        ("$a", Text(change.PublicAddress)), ("$p", Text(change.Protocol)), ("$port", (int)change.PublicPort),
                        ("$t", Text(start.TunnelAddress)), ("$i", (int)start.InternalPort), ("$peer", start.PeerId),
                        ("$name", start.PeerName), ("$g", Gateway), ("$at", at));
                }
                else
                {
                    Execute(c, transaction,
                        "UPDATE audit_mappings SET ended_utc_ms = $at WHERE gateway = $g AND public_address = $a AND protocol = $p " +
                        "AND public_port = $port AND ended_utc_ms IS NULL",
                        ("$at", at), ("$g", Gateway), ("$a", Text(change.PublicAddress)), ("$p", Text(change.Protocol)),
                        ("$port", (int)change.PublicPort));
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
        ArgumentNullException.ThrowIfNull(publicAddress);
        return RunAsync(c => AuditRecord.Answer(Query(c, null, AuditRow,
            $"SELECT {AuditColumns} FROM audit_mappings WHERE public_address = $a AND public_port IN ($port, 0) AND started_utc_ms <= $at " +
            "AND (ended_utc_ms IS NULL OR ended_utc_ms > $at) ORDER BY started_utc_ms, id",
            ("$a", Text(publicAddress)), ("$port", (int)publicPort), ("$at", at.ToUnixTimeMilliseconds()))), cancellationToken);
    }

    public Task<int> PruneAuditAsync(DateTimeOffset endedBefore, CancellationToken cancellationToken = default) =>
        RunAsync(c => Execute(c, null, "DELETE FROM audit_mappings WHERE gateway = $g AND ended_utc_ms < $before",
            ("$g", Gateway), ("$before", endedBefore.ToUnixTimeMilliseconds())), cancellationToken);

    private static AuditRecord AuditRow(SqliteDataReader row) => new(
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
