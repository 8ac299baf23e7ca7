using Microsoft.Extensions.Logging;
using Portcullis.Gateway.Store.Postgres;
using Portcullis.Gateway.Store.Sqlite;

namespace Portcullis.Gateway.Store;

/// <summary>
/// One gateway's SQLite store into a fleet's PostgreSQL (<c>portcullis store migrate</c>): the peers keep their ids,
/// names, keys and tunnel addresses (so every client config stays valid), static forwards keep their addresses —
/// pinned to the old box's addresses, as they were; re-add one without an address to make it fleet-wide — dedicated
/// addresses become the named gateway's, the box's policy overrides become that gateway's own, and its replay floors raise
/// the fleet's. Idempotent: a
/// second run copies nothing. The SQLite file is only read (brought to the current schema first when older, with its
/// usual backup copy).
/// </summary>
public static class StoreMigration
{
    public static async Task<ImportReport> CopyAsync(string sqlitePath, PostgresUrl target, string gateway, ILogger? logger, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(sqlitePath);
        ArgumentNullException.ThrowIfNull(target);
        if (!File.Exists(sqlitePath))
            throw new StoreException($"Store {sqlitePath} does not exist; nothing was copied.");
        await using var from = await SqliteGatewayStore.OpenAsync(sqlitePath, logger, cancellationToken).ConfigureAwait(false);
        var snapshot = new StoreSnapshot(
            await from.ListPeersAsync(cancellationToken).ConfigureAwait(false),
            await from.ListForwardsAsync(null, cancellationToken).ConfigureAwait(false),
            await from.ListDedicatedAddressesAsync(cancellationToken).ConfigureAwait(false));
        var policy = await from.GetPolicyAsync(cancellationToken).ConfigureAwait(false);
        var floors = await from.ListReplayFloorsAsync(cancellationToken).ConfigureAwait(false);
        await using var to = await PostgresGatewayStore.OpenAsync(target, "", logger, cancellationToken).ConfigureAwait(false);
        return await to.ImportAsync(snapshot, policy, floors, gateway, cancellationToken).ConfigureAwait(false);
    }
}
