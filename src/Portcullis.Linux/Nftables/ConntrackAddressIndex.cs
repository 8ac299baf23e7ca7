namespace Portcullis.Linux.Nftables;

/// <summary>
/// The tracked flows of tunnel addresses, by address: those an address opened (original source: masqueraded, or
/// source-NATed by a PCP PEER mapping) and those sent to it (reply source: DNATed by a mapping). Only addresses inside
/// <see cref="Prefixes"/> are held, so the gateway's own flows and strangers' cost nothing; a flow between two tunnel
/// addresses is held under both. With it a removed peer's flows, or a removed PEER mapping's flow, are found in
/// O(that address's flows) rather than by walking the conntrack table. Fed with <see cref="ConntrackFlowIndex"/>
/// (same events, same dumps). Not thread-safe: one owner.
/// </summary>
public sealed class ConntrackAddressIndex
{
    private readonly Dictionary<UInt128, HashSet<TrackedFlow>> _byAddress = [];
    private readonly Stack<HashSet<TrackedFlow>> _spare = new();
    private (UInt128 Prefix, int Length)[] _prefixes = [];
    private int _count;

    /// <summary>Flows held (one held under two addresses counts twice).</summary>
    public int Count => _count;

    /// <summary>
    /// The prefixes (<see cref="FlowAddress"/> values, length counted over 128 bits: an IPv4 /16 is 112) whose
    /// addresses are held. Setting them forgets what was held: the owner rebuilds from a dump.
    /// </summary>
    public IReadOnlyList<(UInt128 Prefix, int Length)> Prefixes
    {
        get => _prefixes;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            _prefixes = [.. value];
            Clear();
        }
    }

    /// <summary>A prefix as <see cref="Prefixes"/> holds it, from an IPv4 or IPv6 network.</summary>
    public static (UInt128 Prefix, int Length) PrefixOf(System.Net.IPNetwork network) =>
        (FlowAddress.Of(network.BaseAddress),
            network.PrefixLength + (network.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 96 : 0));

    /// <summary>Whether <paramref name="address"/> is inside one of <see cref="Prefixes"/>.</summary>
    public bool Covers(UInt128 address)
    {
        foreach (var (prefix, length) in _prefixes)
        {
            if (length == 0 || (address ^ prefix) >> (128 - length) == 0)
                return true;
        }
        return false;
    }

    /// <summary>Holds a flow under each of its tunnel addresses (none: ignored).</summary>
    public void Add(in TrackedFlow flow)
    {
        if (_prefixes.Length == 0)
            return;
        if (Covers(flow.Source))
            Add(flow.Source, flow);
        if (flow.ReplySource != flow.Source && Covers(flow.ReplySource))
            Add(flow.ReplySource, flow);
    }

    /// <summary>Drops a flow (no matter if it was never held).</summary>
    public void Remove(in TrackedFlow flow)
    {
        if (_prefixes.Length == 0)
            return;
        Remove(flow.Source, flow);
        if (flow.ReplySource != flow.Source)
            Remove(flow.ReplySource, flow);
    }

    /// <summary>Moves every flow of <paramref name="address"/> into <paramref name="into"/>; returns how many.</summary>
    public int Take(UInt128 address, List<TrackedFlow> into)
    {
        ArgumentNullException.ThrowIfNull(into);
        if (!_byAddress.TryGetValue(address, out var flows))
            return 0;
        into.AddRange(flows);
        var taken = flows.Count;
        Release(address, flows);
        return taken;
    }

    /// <summary>
    /// Moves the flow of one outbound tuple (<paramref name="source"/> is the tunnel address it left from) into
    /// <paramref name="into"/>; returns how many (0 or 1 per zone).
    /// </summary>
    public int TakeOutbound(UInt128 source, byte protocol, ushort sourcePort, UInt128 remote, ushort remotePort, List<TrackedFlow> into)
    {
        ArgumentNullException.ThrowIfNull(into);
        if (!_byAddress.TryGetValue(source, out var flows))
            return 0;
        var before = into.Count;
        foreach (var flow in flows)
        {
            if (flow.Source == source && flow.Protocol == protocol && flow.SourcePort == sourcePort
                && flow.Destination == remote && flow.DestinationPort == remotePort)
            {
                into.Add(flow);
            }
        }
        for (var i = before; i < into.Count; i++)
            flows.Remove(into[i]);
        _count -= into.Count - before;
        if (flows.Count == 0)
            Release(source, flows);
        return into.Count - before;
    }

    /// <summary>Forgets everything (before a rebuild from a dump).</summary>
    public void Clear()
    {
        foreach (var flows in _byAddress.Values)
        {
            flows.Clear();
            if (_spare.Count < 1024)
                _spare.Push(flows);
        }
        _byAddress.Clear();
        _count = 0;
    }

    private void Add(UInt128 address, in TrackedFlow flow)
    {
        if (!_byAddress.TryGetValue(address, out var flows))
        {
            flows = _spare.TryPop(out var spare) ? spare : [];
            _byAddress[address] = flows;
        }
        if (flows.Add(flow))
            _count++;
    }

    private void Remove(UInt128 address, in TrackedFlow flow)
    {
        if (!_byAddress.TryGetValue(address, out var flows) || !flows.Remove(flow))
            return;
        _count--;
        if (flows.Count == 0)
            Release(address, flows);
    }

    private void Release(UInt128 address, HashSet<TrackedFlow> flows)
    {
        _byAddress.Remove(address);
        flows.Clear();
        if (_spare.Count < 1024)
            _spare.Push(flows);
    }
}
