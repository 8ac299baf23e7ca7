using Npgsql;
using static Portcullis.Gateway.Store.Postgres.PostgresRows;

namespace Portcullis.Gateway.Store.Postgres;

// The fleet's status board. Times are the database's (now()), so gateways with skewed clocks agree on who is up.
public sealed partial class PostgresGatewayStore : IFleetStore
{
    /// <summary>A gateway not seen for this long is listed as down (three missed heartbeats).</summary>
    public static readonly TimeSpan DownAfter = TimeSpan.FromSeconds(30);

    public Task RegisterGatewayAsync(GatewayRegistration registration, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(registration);
        RequireGateway();
        return ReadAsync(async (c, t) => await ExecuteAsync(c, t, """
            INSERT INTO gateways (name, region, default_address, version, schema_version, started_utc, last_seen_utc, stopped)
            VALUES ($1, $2, $3, $4, $5, now(), now(), false)
            ON CONFLICT (name) DO UPDATE SET region = excluded.region, default_address = excluded.default_address,
                version = excluded.version, schema_version = excluded.schema_version, started_utc = now(), last_seen_utc = now(),
                stopped = false, connected_peers = 0, dynamic_mappings = 0, live_static_forwards = 0
            """, cancellationToken, Gateway, registration.Region, Text(registration.DefaultAddress), registration.Version, SchemaVersion)
            .ConfigureAwait(false), cancellationToken);
    }

    public Task ReportGatewayAsync(GatewayFigures figures, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(figures);
        RequireGateway();
        return ReadAsync(async (c, t) => await ExecuteAsync(c, t,
            "UPDATE gateways SET last_seen_utc = now(), stopped = false, connected_peers = $2, dynamic_mappings = $3, live_static_forwards = $4 WHERE name = $1",
            cancellationToken, Gateway, figures.ConnectedPeers, figures.DynamicMappings, figures.LiveStaticForwards).ConfigureAwait(false),
            cancellationToken);
    }

    public Task MarkGatewayStoppedAsync(CancellationToken cancellationToken = default)
    {
        RequireGateway();
        return ReadAsync(async (c, t) =>
        {
            await ExecuteAsync(c, t, "DELETE FROM presence WHERE gateway = $1", cancellationToken, Gateway).ConfigureAwait(false);
            return await ExecuteAsync(c, t, "UPDATE gateways SET stopped = true, last_seen_utc = now(), connected_peers = 0 WHERE name = $1",
                cancellationToken, Gateway).ConfigureAwait(false);
        }, cancellationToken);
    }

    public Task<IReadOnlyList<FleetGateway>> ListGatewaysAsync(CancellationToken cancellationToken = default) =>
        ReadAsync<IReadOnlyList<FleetGateway>>(async (c, t) => await QueryAsync(c, t, row => new FleetGateway
        {
            Name = row.GetString(0),
            Region = row.IsDBNull(1) ? "" : row.GetString(1),
            DefaultAddress = row.IsDBNull(2) ? null : row.GetString(2),
            Version = row.GetString(3),
            SchemaVersion = row.GetInt32(4),
            StartedUtc = row.GetFieldValue<DateTimeOffset>(5),
            LastSeenUtc = row.GetFieldValue<DateTimeOffset>(6),
            Up = row.GetBoolean(7),
            ConnectedPeers = row.GetInt32(8),
            DynamicMappings = row.GetInt32(9),
            LiveStaticForwards = row.GetInt32(10),
        }, """
            SELECT name, region, default_address, version, schema_version, started_utc, last_seen_utc,
                   NOT stopped AND last_seen_utc > now() - $1::interval, connected_peers, dynamic_mappings, live_static_forwards
            FROM gateways ORDER BY name
            """, cancellationToken, DownAfter).ConfigureAwait(false), cancellationToken);

    public Task ReplacePresenceAsync(IReadOnlyCollection<string> peerIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(peerIds);
        RequireGateway();
        return ReadAsync(async (c, t) =>
        {
            await ExecuteAsync(c, t, "DELETE FROM presence WHERE gateway = $1", cancellationToken, Gateway).ConfigureAwait(false);
            // Peers removed meanwhile are skipped (the join), rather than failing the whole set on a foreign key.
            return await ExecuteAsync(c, t,
                "INSERT INTO presence (peer_id, gateway) SELECT p.id, $1 FROM peers p WHERE p.id = ANY($2) ON CONFLICT DO NOTHING",
                cancellationToken, Gateway, peerIds.ToArray()).ConfigureAwait(false);
        }, cancellationToken);
    }

    public Task SetPresenceAsync(string peerId, bool connected, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(peerId);
        RequireGateway();
        return ReadAsync(async (c, t) => connected
            ? await ExecuteAsync(c, t,
                "INSERT INTO presence (peer_id, gateway) SELECT id, $2 FROM peers WHERE id = $1 ON CONFLICT DO NOTHING",
                cancellationToken, peerId, Gateway).ConfigureAwait(false)
            : await ExecuteAsync(c, t, "DELETE FROM presence WHERE peer_id = $1 AND gateway = $2", cancellationToken, peerId, Gateway)
                .ConfigureAwait(false), cancellationToken);
    }

    public Task<IReadOnlyList<PeerPresence>> ListPresenceAsync(CancellationToken cancellationToken = default) =>
        ReadAsync<IReadOnlyList<PeerPresence>>(async (c, t) => await QueryAsync(c, t, row => new PeerPresence(row.GetString(0), row.GetString(1)),
            "SELECT peer_id, gateway FROM presence ORDER BY peer_id, gateway", cancellationToken).ConfigureAwait(false), cancellationToken);

    private void RequireGateway()
    {
        if (Gateway.Length == 0)
            throw new InvalidOperationException("This store was opened without a gateway name.");
    }
}
