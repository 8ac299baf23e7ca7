namespace Portcullis.Linux.Nftables;

/// <summary>
/// The destination-NATed flows the kernel tracks, by original destination (public address, protocol, public port):
/// fed by <see cref="ConntrackEvents"/> (or a dump after an overrun), so the flows of one removed mapping are found
/// in O(its flows), not by walking the whole conntrack table. Flows that were not DNATed (a client's own outbound
/// connections, traffic to the gateway itself) are never held here; <see cref="ByAddress"/> holds those of tunnel
/// addresses. Not thread-safe: one owner.
/// </summary>
public sealed class ConntrackFlowIndex
{
    private readonly Dictionary<FlowKey, HashSet<TrackedFlow>> _byKey = [];
    private readonly Stack<HashSet<TrackedFlow>> _spare = new();
    private int _count;

    /// <summary>Flows held.</summary>
    public int Count => _count;

    /// <summary>Destinations with at least one flow held.</summary>
    public int Destinations => _byKey.Count;

    /// <summary>The same flows by tunnel address (every flow of those, not only DNATed ones): fed here, kept apart.</summary>
    public ConntrackAddressIndex ByAddress { get; } = new();

    /// <summary>Applies one event: a DNATed flow confirmed is added, a flow destroyed is dropped.</summary>
    public void Apply(in ConntrackEvent happened)
    {
        if (happened.Kind == ConntrackEventKind.New)
            Add(happened.Flow);
        else
            Remove(happened.Flow);
    }

    /// <summary>
    /// A routed IPv6 prefix (peers' own addresses, reached untranslated through pinholes): a flow to an address in it
    /// from one outside it entered from the public side through a pinhole, and is held though not DNATed. Null: none.
    /// </summary>
    public (UInt128 Prefix, int Length)? Routed { get; set; }

    /// <summary>Whether <paramref name="flow"/> is one a mapping carried: DNATed, or inbound to the routed prefix.</summary>
    public bool Holds(in TrackedFlow flow) =>
        flow.IsDestinationNatted
        || (Routed is (var prefix, var length) && !flow.IsV4 && In(flow.Destination, prefix, length) && !In(flow.Source, prefix, length));

    /// <summary>Adds a flow if a mapping carried it (see <see cref="Holds"/>; else ignores it). Adding one held already changes nothing.</summary>
    public void Add(in TrackedFlow flow)
    {
        ByAddress.Add(flow);
        if (!Holds(flow))
            return;
        var key = flow.Key;
        if (!_byKey.TryGetValue(key, out var flows))
        {
            flows = _spare.TryPop(out var spare) ? spare : [];
            _byKey[key] = flows;
        }
        if (flows.Add(flow))
            _count++;
    }

    /// <summary>Drops a flow (no matter if it was never held).</summary>
    public void Remove(in TrackedFlow flow)
    {
        ByAddress.Remove(flow);
        var key = flow.Key;
        if (!_byKey.TryGetValue(key, out var flows) || !flows.Remove(flow))
            return;
        _count--;
        if (flows.Count == 0)
            Release(key, flows);
    }

    /// <summary>Moves every flow addressed to <paramref name="key"/> into <paramref name="into"/>; returns how many.</summary>
    public int Take(FlowKey key, List<TrackedFlow> into) => Take(new MappingTarget(key, 0, 0), into);

    /// <summary>
    /// Moves the flows <paramref name="mapping"/> carried (its destination and, if named, its target) into
    /// <paramref name="into"/>; returns how many. Flows a newer mapping on the same destination sends elsewhere stay.
    /// </summary>
    public int Take(MappingTarget mapping, List<TrackedFlow> into)
    {
        ArgumentNullException.ThrowIfNull(into);
        if (!_byKey.TryGetValue(mapping.Key, out var flows))
            return 0;
        var before = into.Count;
        if (mapping.Target == 0)
            into.AddRange(flows);
        else
        {
            foreach (var flow in flows)
            {
                if (mapping.Carried(flow))
                    into.Add(flow);
            }
        }
        var taken = into.Count - before;
        if (taken == flows.Count)
            Release(mapping.Key, flows);
        else
        {
            for (var i = before; i < into.Count; i++)
                flows.Remove(into[i]);
        }
        _count -= taken;
        return taken;
    }

    /// <summary>
    /// Moves every flow addressed to <paramref name="address"/> on any port, except the destinations
    /// <paramref name="keep"/> names, into <paramref name="into"/>; returns how many. Walks the index, not the table.
    /// </summary>
    public int TakeAddress(UInt128 address, Func<FlowKey, bool> keep, List<TrackedFlow> into)
    {
        ArgumentNullException.ThrowIfNull(keep);
        ArgumentNullException.ThrowIfNull(into);
        List<FlowKey>? keys = null;
        foreach (var key in _byKey.Keys)
        {
            if (key.Address == address && !keep(key))
                (keys ??= []).Add(key);
        }
        var taken = 0;
        foreach (var key in keys ?? [])
            taken += Take(key, into);
        return taken;
    }

    /// <summary>Forgets everything (before a rebuild from a dump).</summary>
    public void Clear()
    {
        foreach (var (key, flows) in _byKey)
        {
            flows.Clear();
            if (_spare.Count < 1024)
                _spare.Push(flows);
        }
        _byKey.Clear();
        _count = 0;
        ByAddress.Clear();
    }

    private static bool In(UInt128 address, UInt128 prefix, int length) =>
        length == 0 || (address ^ prefix) >> (128 - length) == 0;

    private void Release(FlowKey key, HashSet<TrackedFlow> flows)
    {
        _byKey.Remove(key);
        flows.Clear();
        if (_spare.Count < 1024)
            _spare.Push(flows);
    }
}
