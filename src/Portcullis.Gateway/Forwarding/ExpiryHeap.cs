namespace Portcullis.Gateway.Forwarding;

/// <summary>
/// The live leases by expiry: a binary min-heap in which every lease knows its own slot
/// (<see cref="Mapping.ExpirySlot"/>), so a lease that is refreshed or released leaves the heap at once, in O(log n).
/// <para>
/// Why not a <see cref="PriorityQueue{TElement, TPriority}"/> with stale entries skipped when they pop: at 10 000
/// changes a second every released or refreshed lease would stay referenced until its old expiry (minutes to hours),
/// millions of them, each surviving every collection on the way (issue 12: gen0 pauses were a share of the latency
/// tail). Here the heap holds exactly the live leases. Not thread-safe: the service's lock guards it.
/// </para>
/// </summary>
internal sealed class ExpiryHeap
{
    private Mapping[] _heap = new Mapping[16];

    public int Count { get; private set; }

    public void Add(Mapping mapping)
    {
        if (mapping.ExpirySlot >= 0)
            throw new InvalidOperationException("The lease is in the expiry heap already.");
        if (Count == _heap.Length)
            Array.Resize(ref _heap, _heap.Length * 2);
        Place(mapping, Count++);
        Up(mapping.ExpirySlot);
    }

    /// <summary>Takes the lease out; nothing happens when it is not in the heap.</summary>
    public void Remove(Mapping mapping)
    {
        var slot = mapping.ExpirySlot;
        if (slot < 0)
            return;
        mapping.ExpirySlot = -1;
        var last = _heap[--Count];
        _heap[Count] = null!;
        if (slot == Count)
            return;
        Place(last, slot);
        Down(slot);
        Up(last.ExpirySlot);
    }

    public bool TryPeek(out Mapping mapping)
    {
        mapping = Count > 0 ? _heap[0] : null!;
        return Count > 0;
    }

    private void Up(int slot)
    {
        var mapping = _heap[slot];
        while (slot > 0)
        {
            var parent = (slot - 1) / 2;
            if (_heap[parent].ExpiresAt <= mapping.ExpiresAt)
                break;
            Place(_heap[parent], slot);
            slot = parent;
        }
        Place(mapping, slot);
    }

    private void Down(int slot)
    {
        var mapping = _heap[slot];
        while (true)
        {
            var child = (2 * slot) + 1;
            if (child >= Count)
                break;
            if (child + 1 < Count && _heap[child + 1].ExpiresAt < _heap[child].ExpiresAt)
                child++;
            if (mapping.ExpiresAt <= _heap[child].ExpiresAt)
                break;
            Place(_heap[child], slot);
            slot = child;
        }
        Place(mapping, slot);
    }

    private void Place(Mapping mapping, int slot)
    {
        _heap[slot] = mapping;
        mapping.ExpirySlot = slot;
    }
}
