namespace Portcullis.Gateway.Forwarding;

/// <summary>
/// A dictionary whose entries lapse at a time given when set: quarantined ports, remembered ports. Lapsed entries
/// are invisible at once and dropped by <see cref="Sweep"/>, which pops a first-in-first-out queue, so memory stays
/// bounded without a scan. Not thread-safe; the service's lock guards it.
/// </summary>
internal sealed class ExpiringMemory<TKey, TValue>
    where TKey : notnull
{
    private readonly Dictionary<TKey, (TValue Value, TimeSpan Until)> _entries = [];
    private readonly Queue<(TKey Key, TimeSpan Until)> _order = new();

    public int Count => _entries.Count;

    public void Set(TKey key, TValue value, TimeSpan until)
    {
        _entries[key] = (value, until);
        _order.Enqueue((key, until));
    }

    public bool TryGet(TKey key, TimeSpan now, out TValue value)
    {
        if (_entries.TryGetValue(key, out var entry) && entry.Until > now)
        {
            value = entry.Value;
            return true;
        }
        value = default!;
        return false;
    }

    public void Remove(TKey key) => _entries.Remove(key);

    /// <summary>
    /// Drops lapsed entries. The queue is in insertion order, which is expiry order while the duration stays the
    /// same; after a policy change an entry may wait behind a later one, but <see cref="TryGet"/> already hides it.
    /// </summary>
    public void Sweep(TimeSpan now)
    {
        while (_order.TryPeek(out var head) && head.Until <= now)
        {
            _order.Dequeue();
            // A later Set of the same key left a newer entry: only the entry this queue item describes goes.
            if (_entries.TryGetValue(head.Key, out var entry) && entry.Until == head.Until)
                _entries.Remove(head.Key);
        }
    }

    public void Clear()
    {
        _entries.Clear();
        _order.Clear();
    }
}
