using System.Net;
using Npgsql;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Store.Postgres;

/// <summary>Commands with positional parameters, and rows to records.</summary>
internal static class PostgresRows
{
    public const string PeerColumns = "id, name, public_key, tunnel_address, enabled, created_utc_ms";
    public const string ForwardColumns = "public_address, protocol, external_port, peer_id, internal_port";
    public const string DedicatedColumns = "address, peer_id, gateway";

    public static NpgsqlCommand Command(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, params object?[] parameters)
    {
        var command = new NpgsqlCommand(sql, connection, transaction);
        foreach (var value in parameters)
            command.Parameters.Add(new NpgsqlParameter { Value = value ?? DBNull.Value });
        return command;
    }

    public static async Task<int> ExecuteAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken cancellationToken, params object?[] parameters)
    {
        await using var command = Command(connection, transaction, sql, parameters);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public static async Task<bool> ExistsAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken cancellationToken, params object?[] parameters)
    {
        await using var command = Command(connection, transaction, sql, parameters);
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not null;
    }

    public static async Task<List<T>> QueryAsync<T>(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, Func<NpgsqlDataReader, T> read, string sql,
        CancellationToken cancellationToken, params object?[] parameters)
    {
        await using var command = Command(connection, transaction, sql, parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var rows = new List<T>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            rows.Add(read(reader));
        return rows;
    }

    public static StoredPeer Peer(NpgsqlDataReader row) => new()
    {
        Id = row.GetString(0),
        Name = row.GetString(1),
        PublicKey = row.GetString(2),
        TunnelAddress = row.GetFieldValue<IPAddress>(3),
        Enabled = row.GetBoolean(4),
        CreatedUtc = DateTimeOffset.FromUnixTimeMilliseconds(row.GetInt64(5)),
    };

    public static StoredForward Forward(NpgsqlDataReader row) => new()
    {
        PublicAddress = IPAddress.Parse(row.GetString(0)),
        Protocol = StoreText.Protocol(row.GetString(1), "static_forwards"),
        ExternalPort = checked((ushort)row.GetInt32(2)),
        PeerId = row.GetString(3),
        InternalPort = checked((ushort)row.GetInt32(4)),
    };

    public static DedicatedAddress Dedicated(NpgsqlDataReader row) =>
        new(IPAddress.Parse(row.GetString(0)), row.GetString(1)) { Gateway = row.GetString(2) };

    public static object?[] PeerValues(StoredPeer peer) =>
        [peer.Id, peer.Name, peer.PublicKey, Plain(peer.TunnelAddress), peer.Enabled, peer.CreatedUtc.ToUnixTimeMilliseconds()];

    public static object?[] ForwardValues(StoredForward forward) =>
        [Text(forward.PublicAddress), Text(forward.Protocol), (int)forward.ExternalPort, forward.PeerId, (int)forward.InternalPort];

    public static object?[] KeyValues(ForwardKey key) => [Text(key.PublicAddress), Text(key.Protocol), (int)key.ExternalPort];

    public static IPAddress Plain(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    /// <summary>As the SQLite store writes it: one text per address, so text equality is address equality.</summary>
    public static string Text(IPAddress address) => StoreText.Of(address);

    public static string Text(MappingProtocol protocol) => StoreText.Of(protocol);
}
