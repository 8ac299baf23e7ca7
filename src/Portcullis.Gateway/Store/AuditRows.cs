using System.Data.Common;
using System.Net;

namespace Portcullis.Gateway.Store;

/// <summary>
/// The audit trail's rows as both stores keep them (table <c>audit_mappings</c>): what a change writes, checked before
/// any of a batch is written; a row back to a record; and the answer a query gives. Each store holds only its SQL, whose
/// positional parameters follow the order of the values given here.
/// </summary>
internal static class AuditRows
{
    /// <summary>The columns a record is read from, in <see cref="Read"/>'s order.</summary>
    public const string Columns =
        "public_address, protocol, public_port, tunnel_address, internal_port, peer_id, peer_name, gateway, started_utc_ms, ended_utc_ms";

    /// <summary>Throws <see cref="ArgumentException"/> for a batch that cannot be written, so none of it is.</summary>
    public static void Check(IReadOnlyList<AuditChange> changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        foreach (var change in changes)
        {
            ArgumentNullException.ThrowIfNull(change, nameof(changes));
            ArgumentNullException.ThrowIfNull(change.PublicAddress, nameof(changes));
            _ = StoreText.Of(change.Protocol);
            if (change.Started is not { } start)
                continue;
            ArgumentNullException.ThrowIfNull(start.TunnelAddress, nameof(changes));
            ArgumentException.ThrowIfNullOrEmpty(start.PeerId, nameof(changes));
            // A dedicated address's record is all of it, on both sides; a mapping's names its ports.
            if ((change.PublicPort == AuditRecord.EveryPort) != (start.InternalPort == AuditRecord.EveryPort))
                throw new ArgumentException("A record of every port has no internal port, and a mapping's has one.", nameof(changes));
        }
    }

    /// <summary>A start's values: the first nine <see cref="Columns"/> (the record is still open).</summary>
    public static object?[] Start(AuditChange change, AuditStart start, string gateway) =>
    [
        StoreText.Of(change.PublicAddress), StoreText.Of(change.Protocol), (int)change.PublicPort, StoreText.Of(start.TunnelAddress),
        (int)start.InternalPort, start.PeerId, start.PeerName, gateway, change.At.ToUnixTimeMilliseconds(),
    ];

    /// <summary>An end's values: the time, then the key of the gateway's open records it closes (gateway, address, protocol, port).</summary>
    public static object?[] End(AuditChange change, string gateway) =>
        [change.At.ToUnixTimeMilliseconds(), gateway, StoreText.Of(change.PublicAddress), StoreText.Of(change.Protocol), (int)change.PublicPort];

    /// <summary>A query's values: the address, the port, the time.</summary>
    public static object?[] Find(IPAddress publicAddress, ushort publicPort, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(publicAddress);
        return [StoreText.Of(publicAddress), (int)publicPort, at.ToUnixTimeMilliseconds()];
    }

    public static AuditRecord Read(DbDataReader row) => new(
        IPAddress.Parse(row.GetString(0)),
        StoreText.Protocol(row.GetString(1), "audit_mappings"),
        checked((ushort)row.GetInt32(2)),
        IPAddress.Parse(row.GetString(3)),
        checked((ushort)row.GetInt32(4)),
        row.GetString(5),
        row.IsDBNull(6) ? null : row.GetString(6),
        row.GetString(7),
        DateTimeOffset.FromUnixTimeMilliseconds(row.GetInt64(8)),
        row.IsDBNull(9) ? null : DateTimeOffset.FromUnixTimeMilliseconds(row.GetInt64(9)));

    /// <summary>
    /// What <see cref="IAuditStore.FindAuditAsync"/> answers from the rows of a port and of
    /// <see cref="AuditRecord.EveryPort"/> on its address: a record of the port itself wins, a dedicated address's
    /// answers only for a port no mapping held.
    /// </summary>
    public static IReadOnlyList<AuditRecord> Answer(List<AuditRecord> rows)
    {
        if (rows.Exists(r => r.PublicPort != AuditRecord.EveryPort))
            rows.RemoveAll(r => r.PublicPort == AuditRecord.EveryPort);
        return rows;
    }
}
