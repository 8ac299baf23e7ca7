using static Portcullis.Gateway.Store.Postgres.PostgresRows;

namespace Portcullis.Gateway.Store.Postgres;

public sealed partial class PostgresGatewayStore
{
    public Task<ServerPolicy> GetPolicyAsync(CancellationToken cancellationToken = default) => GetGatewayPolicyAsync("", cancellationToken);

    public Task SetPolicyAsync(ServerPolicy policy, CancellationToken cancellationToken = default) => SetGatewayPolicyAsync("", policy, cancellationToken);

    public Task<ServerPolicy> GetGatewayPolicyAsync(string gateway, CancellationToken cancellationToken = default)
    {
        var prefix = PolicySettings.Prefix(gateway);
        return ReadAsync(async (c, t) =>
        {
            var rows = await QueryAsync(c, t, row => (Key: row.GetString(0), Value: row.GetString(1)),
                "SELECT key, value FROM settings WHERE starts_with(key, $1)", cancellationToken, prefix).ConfigureAwait(false);
            return PolicySettings.Read(rows.ToDictionary(r => r.Key, r => r.Value, StringComparer.Ordinal), prefix,
                (key, text) => new StoreException($"Store {Display}: setting {key} holds '{text}', which this build cannot read."));
        }, cancellationToken);
    }

    public Task SetGatewayPolicyAsync(string gateway, ServerPolicy policy, CancellationToken cancellationToken = default)
    {
        var rows = PolicySettings.Rows(policy, PolicySettings.Prefix(gateway)).ToList();
        return WriteAsync(async (c, t) =>
        {
            foreach (var (key, value) in rows)
            {
                if (value is null)
                    await ExecuteAsync(c, t, "DELETE FROM settings WHERE key = $1", cancellationToken, key).ConfigureAwait(false);
                else
                    await ExecuteAsync(c, t,
                        "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value " +
                        "WHERE settings.value IS DISTINCT FROM excluded.value", cancellationToken, key, value).ConfigureAwait(false);
            }
            return true;
        }, cancellationToken);
    }
}
