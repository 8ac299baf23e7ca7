using static Portcullis.Gateway.Store.Sqlite.SqliteRows;

namespace Portcullis.Gateway.Store.Sqlite;

public sealed partial class SqliteGatewayStore
{
    private const int TimestampSize = 12;

    public Task<IReadOnlyDictionary<string, byte[]>> ListReplayFloorsAsync(CancellationToken cancellationToken = default) =>
        RunAsync<IReadOnlyDictionary<string, byte[]>>(c =>
            Query(c, null, row => (Key: row.GetString(0), Floor: (byte[])row.GetValue(1)), "SELECT public_key, tai64n FROM replay_floors")
                .ToDictionary(row => row.Key, row => row.Floor, StringComparer.Ordinal), cancellationToken);

    public Task RaiseReplayFloorsAsync(IReadOnlyCollection<KeyValuePair<string, byte[]>> floors, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(floors);
        foreach (var (_, floor) in floors)
        {
            if (floor is not { Length: TimestampSize })
                throw new ArgumentException("A replay floor is a 12-byte TAI64N timestamp.", nameof(floors));
        }
        if (floors.Count == 0)
            return Task.CompletedTask;
        return RunAsync(c =>
        {
            using var transaction = c.BeginTransaction(deferred: false);
            foreach (var (key, floor) in floors)
            {
                // BLOBs compare as memcmp, and a TAI64N's bytes are big-endian: the greater blob is the later time.
                Execute(c, transaction,
                    "INSERT INTO replay_floors (public_key, tai64n) VALUES ($key, $floor) " +
                    "ON CONFLICT (public_key) DO UPDATE SET tai64n = excluded.tai64n WHERE excluded.tai64n > replay_floors.tai64n",
                    ("$key", key), ("$floor", floor));
            }
            transaction.Commit();
            return true;
        }, cancellationToken);
    }
}
