using static Portcullis.Gateway.Store.Postgres.PostgresRows;

namespace Portcullis.Gateway.Store.Postgres;

// Replay floors for the whole fleet: every gateway raises the floors its device saw, and a floor only ever rises
// (GREATEST), whichever gateway writes last. bytea compares as memcmp, and a TAI64N's bytes are big-endian, so the
// greater value is the later time.
public sealed partial class PostgresGatewayStore : IReplayFloorStore
{
    private const int TimestampSize = 12;

    // $1 keys, $2 floors, one row per key. Counts the floors it raised.
    private const string RaiseFloorsSql = """
        INSERT INTO replay_floors (public_key, tai64n)
        SELECT key, floor FROM unnest($1::text[], $2::bytea[]) AS f (key, floor) ORDER BY key
        ON CONFLICT (public_key) DO UPDATE SET tai64n = GREATEST(replay_floors.tai64n, excluded.tai64n)
            WHERE excluded.tai64n > replay_floors.tai64n
        """;

    public Task<IReadOnlyDictionary<string, byte[]>> ListReplayFloorsAsync(CancellationToken cancellationToken = default) =>
        ReadAsync<IReadOnlyDictionary<string, byte[]>>(async (c, t) =>
            (await QueryAsync(c, t, row => (Key: row.GetString(0), Floor: row.GetFieldValue<byte[]>(1)),
                "SELECT public_key, tai64n FROM replay_floors", cancellationToken).ConfigureAwait(false))
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
        // One row per key (an upsert may touch a row once per statement), the greatest floor of the batch.
        var greatest = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var (key, floor) in floors)
        {
            if (!greatest.TryGetValue(key, out var known) || floor.AsSpan().SequenceCompareTo(known) > 0)
                greatest[key] = floor;
        }
        var keys = greatest.Keys.ToArray();
        var values = greatest.Values.ToArray();
        // One statement for the batch, without the write lock: the upsert is its own check, and two gateways raising
        // the same key at once both end at the greater value. Keys in one order, so two batches cannot deadlock.
        return RunAsync(async (c, t) =>
        {
            await ExecuteAsync(c, t, RaiseFloorsSql, cancellationToken, keys, values).ConfigureAwait(false);
            return true;
        }, locked: false, cancellationToken);
    }
}
