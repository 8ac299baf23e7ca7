using System.Globalization;
using Microsoft.Data.Sqlite;
using Portcullis.Gateway.Forwarding;
using static Portcullis.Gateway.Store.Sqlite.SqliteRows;

namespace Portcullis.Gateway.Store.Sqlite;

public sealed partial class SqliteGatewayStore
{
    // The keys this build knows; rows with other keys (a newer gateway of the same fleet) are kept and ignored.
    private const string EnabledKey = "forwarding.enabled";
    private const string PortRangeKey = "forwarding.port_range";
    private const string MaxPerPeerKey = "forwarding.max_per_peer";
    private const string AllDedicatedPortsKey = "dedicated.forward_all_ports";

    public Task<ServerPolicy> GetPolicyAsync(CancellationToken cancellationToken = default) =>
        RunAsync(c =>
        {
            var values = Query(c, null, row => (Key: row.GetString(0), Value: row.GetString(1)), "SELECT key, value FROM settings")
                .ToDictionary(row => row.Key, row => row.Value, StringComparer.Ordinal);
            return new ServerPolicy
            {
                ForwardingEnabled = Parse(values, EnabledKey, text => bool.TryParse(text, out var b) ? b : (bool?)null),
                PortRange = Parse(values, PortRangeKey, text => PortRange.TryParse(text, out var range) ? range : null),
                MaxPerPeer = Parse(values, MaxPerPeerKey,
                    text => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : (int?)null),
                ForwardAllDedicatedPorts = Parse(values, AllDedicatedPortsKey, text => bool.TryParse(text, out var b) ? b : (bool?)null),
            };
        }, cancellationToken);

    public Task SetPolicyAsync(ServerPolicy policy, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(policy);
        if (policy.MaxPerPeer < 0)
            throw new ArgumentException("MaxPerPeer is at least 0.", nameof(policy));
        return RunAsync(c =>
        {
            using var transaction = c.BeginTransaction(deferred: false);
            Set(c, transaction, EnabledKey, policy.ForwardingEnabled is { } enabled ? (enabled ? "true" : "false") : null);
            Set(c, transaction, PortRangeKey, policy.PortRange?.ToString());
            Set(c, transaction, MaxPerPeerKey, policy.MaxPerPeer?.ToString(CultureInfo.InvariantCulture));
            Set(c, transaction, AllDedicatedPortsKey,
                policy.ForwardAllDedicatedPorts is { } all ? (all ? "true" : "false") : null);
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

    private T? Parse<T>(Dictionary<string, string> values, string key, Func<string, T?> parse)
        where T : struct
    {
        if (!values.TryGetValue(key, out var text))
            return null;
        return parse(text) ?? throw new StoreException($"Store {Path}: setting {key} holds '{text}', which this build cannot read.");
    }
}
