namespace Portcullis.WireGuard.Device;

/// <summary>
/// The last accepted initiation timestamp of keys that are not peers now — removed, or not added yet when a host
/// restored their floor (<see cref="WireGuardDevice.RaiseReplayFloor"/>) — so a peer added with the same key keeps
/// its replay floor: without it a re-added peer starts at zero, and anyone who captured one of its old initiations
/// could replay it to move the peer's endpoint to themselves (and bring its forwards live on a gateway). Timestamps
/// are not secret. Bounded: the oldest removal is forgotten first once <see cref="Capacity"/> keys are held.
/// Guarded by the device's config lock.
/// </summary>
internal sealed class TimestampMemory
{
    // Far more removals than an operator makes between restarts; a few MiB at most.
    public const int Capacity = 1 << 16;

    private readonly Dictionary<string, byte[]> _byKey = new(StringComparer.Ordinal);
    private readonly Queue<string> _order = new();

    /// <summary>Remembers <paramref name="timestamp12"/> for <paramref name="key"/>; an all-zero timestamp (no initiation accepted) is not news.</summary>
    public void Remember(string key, ReadOnlySpan<byte> timestamp12)
    {
        if (!timestamp12.ContainsAnyExcept((byte)0))
            return;
        if (_byKey.TryGetValue(key, out var held))
        {
            if (Portcullis.Core.Time.Tai64N.IsAfter(timestamp12, held))
                timestamp12.CopyTo(held);
            return;
        }
        while (_byKey.Count >= Capacity && _order.TryDequeue(out var oldest))
            _byKey.Remove(oldest);
        _byKey.Add(key, timestamp12.ToArray());
        _order.Enqueue(key);
    }

    /// <summary>The remembered timestamp for <paramref name="key"/>, or null; it stays remembered (a later removal only raises it).</summary>
    public byte[]? Find(string key) => _byKey.GetValueOrDefault(key);

    /// <summary>Every remembered key and timestamp (the arrays are the memory's own: copy them).</summary>
    public IEnumerable<KeyValuePair<string, byte[]>> Entries => _byKey;
}
