namespace Portcullis.WireGuard.Device;

/// <summary>One source's queued handshake messages, oldest to newest, and its place among sources holding as many.</summary>
internal sealed class HandshakeSource
{
    public UInt128 Key;
    public int Count;
    public HandshakeWork? Oldest;
    public HandshakeWork? Newest;
    public HandshakeSource? PreviousWithCount;
    public HandshakeSource? NextWithCount;
}

/// <summary>
/// Which source holds which queued messages, and which source holds the most — the bookkeeping behind
/// <see cref="HandshakeQueue"/>'s fairness. Sources are kept in lists by how many messages they hold (as an LFU cache
/// keeps its counts), so the heaviest is found, and a message added or removed, in constant time, however the flood's
/// messages are spread over the queue. Not thread-safe: the queue calls it under its lock. Records are pooled (one per
/// queued message at most), so nothing is allocated after construction.
/// </summary>
internal sealed class HandshakeSources
{
    private readonly Dictionary<UInt128, HandshakeSource> _byKey;
    private readonly Stack<HandshakeSource> _free;

    // _withCount[c]: the sources holding exactly c messages (c ≥ 1); _most: the highest c with any, 0 when empty.
    private readonly HandshakeSource?[] _withCount;
    private int _most;

    public HandshakeSources(int capacity)
    {
        // Sized for one source per queued message, so neither ever grows.
        _byKey = new Dictionary<UInt128, HandshakeSource>(capacity);
        _free = new Stack<HandshakeSource>(capacity);
        for (var i = 0; i < capacity; i++)
            _free.Push(new HandshakeSource());
        _withCount = new HandshakeSource?[capacity + 1];
    }

    /// <summary>A source holding the most messages; null when nothing is queued.</summary>
    public HandshakeSource? Heaviest => _withCount[_most];

    public int CountOf(UInt128 key) => _byKey.TryGetValue(key, out var source) ? source.Count : 0;

    /// <summary>Records <paramref name="work"/> as <paramref name="key"/>'s newest message.</summary>
    public void Append(UInt128 key, HandshakeWork work)
    {
        if (!_byKey.TryGetValue(key, out var source))
        {
            source = _free.Pop();
            source.Key = key;
            _byKey.Add(key, source);
        }
        else
        {
            Unlist(source);
        }
        work.Owner = source;
        work.OlderOfSource = source.Newest;
        work.NewerOfSource = null;
        if (source.Newest is { } newest)
            newest.NewerOfSource = work;
        else
            source.Oldest = work;
        source.Newest = work;
        source.Count++;
        List(source);
        if (source.Count > _most)
            _most = source.Count;
    }

    /// <summary>Forgets <paramref name="work"/> (taken by the consumer, or about to be overwritten); its source goes with its last message.</summary>
    public void Remove(HandshakeWork work)
    {
        var source = work.Owner!;
        if (work.OlderOfSource is { } older)
            older.NewerOfSource = work.NewerOfSource;
        else
            source.Oldest = work.NewerOfSource;
        if (work.NewerOfSource is { } newer)
            newer.OlderOfSource = work.OlderOfSource;
        else
            source.Newest = work.OlderOfSource;
        work.Owner = null;
        work.OlderOfSource = work.NewerOfSource = null;

        Unlist(source);
        // The source held the most and was alone with that count: the most is now one less (it still holds that many, or nobody does).
        if (source.Count == _most && _withCount[_most] is null)
            _most--;
        source.Count--;
        if (source.Count > 0)
        {
            List(source);
            return;
        }
        _byKey.Remove(source.Key);
        source.Oldest = source.Newest = null;
        _free.Push(source);
    }

    private void List(HandshakeSource source)
    {
        var head = _withCount[source.Count];
        source.PreviousWithCount = null;
        source.NextWithCount = head;
        if (head is not null)
            head.PreviousWithCount = source;
        _withCount[source.Count] = source;
    }

    private void Unlist(HandshakeSource source)
    {
        if (source.PreviousWithCount is { } previous)
            previous.NextWithCount = source.NextWithCount;
        else
            _withCount[source.Count] = source.NextWithCount;
        if (source.NextWithCount is { } next)
            next.PreviousWithCount = source.PreviousWithCount;
        source.PreviousWithCount = source.NextWithCount = null;
    }
}
