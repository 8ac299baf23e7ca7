using Microsoft.Data.Sqlite;
using static Portcullis.Gateway.Store.Sqlite.SqliteRows;

namespace Portcullis.Gateway.Store.Sqlite;

public sealed partial class SqliteGatewayStore
{
    public Task<ServerPolicy> GetPolicyAsync(CancellationToken cancellationToken = default) =>
        GetGatewayPolicyAsync("", cancellationToken);

    public Task SetPolicyAsync(ServerPolicy policy, CancellationToken cancellationToken = default) =>
        SetGatewayPolicyAsync("", policy, cancellationToken);

    public Task<ServerPolicy> GetGatewayPolicyAsync(string gateway, CancellationToken cancellationToken = default) =>
        RunAsync(c =>
        {
            var values = Query(c, null, row => (Key: row.GetString(0), Value: row.GetString(1)), "SELECT key, value FROM settings")
                .ToDictionary(row => row.Key, row => row.Value, StringComparer.Ordinal);
            return PolicySettings.Read(values, PolicySettings.Prefix(gateway),
                (key, text) => new StoreException($"Store {Path}: setting {key} holds '{text}', which this build cannot read."));
        }, cancellationToken);

    public Task SetGatewayPolicyAsync(string gateway, ServerPolicy policy, CancellationToken cancellationToken = default)
    {
        var rows = PolicySettings.Rows(policy, PolicySettings.Prefix(gateway)).ToList();
        return RunAsync(c =>
        {
            using var transaction = c.BeginTransaction(deferred: false);
            foreach (var (key, value) in rows)
                Set(c, transaction, key, value);
            transaction.Commit();
            return true;
        }, cancellationToken);
    }

    private static void Set(SqliteConnection c, SqliteTransaction transaction, string key, string? value)
    {
        if (value is null)
            Execute(c, transaction, "DELETE FROM settings WHERE key = $key", ("$key", key));
        else
            Execute(c, transaction,
                "INSERT INTO settings (key, value) VALUES ($key, $value) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                ("$key", key), ("$value", value));
    }
}
