using System.Globalization;
using System.Net;
using Microsoft.Data.Sqlite;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Store.Sqlite;

/// <summary>Commands with parameters, and rows to records and back.</summary>
internal static class SqliteRows
{
    public const string PeerColumns = "id, name, public_key, tunnel_address, enabled, created_utc_ms";
    public const string ForwardColumns = "public_address, protocol, external_port, peer_id, internal_port";

    public static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return command;
    }

    public static int Execute(SqliteConnection connection, SqliteTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(connection, transaction, sql, parameters);
        return command.ExecuteNonQuery();
    }

    /// <summary>Values as the parameters $1, $2, … of the SQL they are for.</summary>
    public static (string Name, object? Value)[] Positional(object?[] values)
    {
        var named = new (string, object?)[values.Length];
        for (var i = 0; i < values.Length; i++)
            named[i] = (string.Create(CultureInfo.InvariantCulture, $"${i + 1}"), values[i]);
        return named;
    }

    public static bool Exists(SqliteConnection connection, SqliteTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(connection, transaction, sql, parameters);
        return command.ExecuteScalar() is not null;
    }

    public static List<T> Query<T>(
        SqliteConnection connection, SqliteTransaction? transaction, Func<SqliteDataReader, T> read, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(connection, transaction, sql, parameters);
        using var reader = command.ExecuteReader();
        var rows = new List<T>();
        while (reader.Read())
            rows.Add(read(reader));
        return rows;
    }

    public static StoredPeer Peer(SqliteDataReader row) => new()
    {
        Id = row.GetString(0),
        Name = row.GetString(1),
        PublicKey = row.GetString(2),
        TunnelAddress = IPAddress.Parse(row.GetString(3)),
        Enabled = row.GetInt64(4) != 0,
        CreatedUtc = DateTimeOffset.FromUnixTimeMilliseconds(row.GetInt64(5)),
    };

    public static StoredForward Forward(SqliteDataReader row) => new()
    {
        PublicAddress = IPAddress.Parse(row.GetString(0)),
        Protocol = ParseProtocol(row.GetString(1)),
        ExternalPort = checked((ushort)row.GetInt64(2)),
        PeerId = row.GetString(3),
        InternalPort = checked((ushort)row.GetInt64(4)),
    };

    public static DedicatedAddress Dedicated(SqliteDataReader row) => new(IPAddress.Parse(row.GetString(0)), row.GetString(1));

    public static (string, object?)[] PeerParameters(StoredPeer peer) =>
    [
        ("$id", peer.Id), ("$name", peer.Name), ("$key", peer.PublicKey), ("$address", Text(peer.TunnelAddress)),
        ("$enabled", peer.Enabled ? 1 : 0), ("$created", peer.CreatedUtc.ToUnixTimeMilliseconds()),
    ];

    public static (string, object?)[] ForwardParameters(StoredForward forward) =>
    [
        ("$address", Text(forward.PublicAddress)), ("$protocol", Text(forward.Protocol)), ("$external", (int)forward.ExternalPort),
        ("$peer", forward.PeerId), ("$internal", (int)forward.InternalPort),
    ];

    public static (string, object?)[] KeyParameters(ForwardKey key) =>
        [("$address", Text(key.PublicAddress)), ("$protocol", Text(key.Protocol)), ("$external", (int)key.ExternalPort)];

    public static string Text(IPAddress address) => StoreText.Of(address);

    public static string Text(MappingProtocol protocol) => StoreText.Of(protocol);

    private static MappingProtocol ParseProtocol(string text) => StoreText.Protocol(text, "static_forwards");
}
