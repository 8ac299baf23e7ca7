namespace Portcullis.Gateway.Forwarding;

/// <summary>
/// The lease book: every live dynamic mapping by its public key (and in its peer's list), the queue of their
/// expiries, and the removals the kernel has not taken yet (pending: their ports stay reserved until the kernel drops
/// them or their kernel timeout has). What it holds is what the kernel holds: the service changes it only after a
/// table update succeeded. Not thread-safe: the service's lock guards it.
/// </summary>
internal sealed class LeaseBook
{
    private readonly Dictionary<PortKey, Mapping> _byPort = [];
    private readonly ExpiryHeap _expiries = new();
    private readonly Dictionary<PortKey, PendingRemoval> _pending = [];

    /// <summary>A removal the kernel refused, and when the kernel drops the element by itself (MaxValue: never).</summary>
    public readonly record struct PendingRemoval(ForwardingEntry Entry, TimeSpan KernelExpiresAt);

    public int Count => _byPort.Count;

    public int PendingCount => _pending.Count;

    /// <summary>How many leases wait in the expiry heap: the live ones not yet taken as due.</summary>
    public int ExpiryCount => _expiries.Count;

    public Dictionary<PortKey, Mapping>.ValueCollection Mappings => _byPort.Values;

    public Dictionary<PortKey, Mapping>.KeyCollection Keys => _byPort.Keys;

    public bool TryGet(PortKey key, out Mapping mapping) => _byPort.TryGetValue(key, out mapping!);

    /// <summary>Who holds the key in the book: a live mapping's peer or a pending removal's owner; null when neither.</summary>
    public string? OwnerOf(PortKey key) =>
        _byPort.TryGetValue(key, out var mapping) ? mapping.Owner.PeerId
        : _pending.TryGetValue(key, out var pending) ? pending.Entry.Owner
        : null;

    /// <summary>A new lease is live: in the book, in its peer's list, in the expiry heap.</summary>
    public void Add(Mapping mapping)
    {
        mapping.Owner.Mappings.Add(mapping);
        _byPort.Add(mapping.PortKey, mapping);
        _expiries.Add(mapping);
    }

    /// <summary>A refreshed lease takes its predecessor's place, in the expiry heap too.</summary>
    public void Replace(Mapping existing, Mapping renewed)
    {
        var list = existing.Owner.Mappings;
        list[list.IndexOf(existing)] = renewed;
        _byPort[renewed.PortKey] = renewed;
        _expiries.Remove(existing);
        _expiries.Add(renewed);
    }

    public void Remove(Mapping mapping)
    {
        mapping.Owner.Mappings.Remove(mapping);
        _byPort.Remove(mapping.PortKey);
        _expiries.Remove(mapping);
    }

    /// <summary>The leases due by <paramref name="now"/>, taken off the expiry heap (still in the book); null when none.</summary>
    public List<Mapping>? TakeDue(TimeSpan now)
    {
        List<Mapping>? due = null;
        while (_expiries.TryPeek(out var mapping) && mapping.ExpiresAt <= now)
        {
            _expiries.Remove(mapping);
            (due ??= []).Add(mapping);
        }
        return due;
    }

    public bool TryPeekNextExpiry(out TimeSpan at)
    {
        var any = _expiries.TryPeek(out var next);
        at = any ? next.ExpiresAt : default;
        return any;
    }

    public void Defer(ForwardingEntry entry, TimeSpan kernelExpiresAt) =>
        _pending[PortKey.Of(entry)] = new PendingRemoval(entry, kernelExpiresAt);

    public bool TryGetPending(PortKey key, out ForwardingEntry entry)
    {
        var found = _pending.TryGetValue(key, out var pending);
        entry = pending.Entry;
        return found;
    }

    public void RemovePending(PortKey key) => _pending.Remove(key);

    public void ClearPending() => _pending.Clear();

    /// <summary>The pending removals still worth sending: those past their kernel timeout have removed themselves.</summary>
    public List<ForwardingEntry> PendingToRetry(TimeSpan now)
    {
        foreach (var (key, pending) in _pending)
        {
            if (pending.KernelExpiresAt <= now)
                _pending.Remove(key);
        }
        var entries = new List<ForwardingEntry>(_pending.Count);
        foreach (var pending in _pending.Values)
            entries.Add(pending.Entry);
        return entries;
    }

    /// <summary>
    /// The leases <paramref name="policy"/> no longer allows: all when forwarding is disabled, else those outside the
    /// range (a routed IPv6 pinhole's port is the peer's own: the range does not apply) or on a blocked port.
    /// </summary>
    public List<Mapping> NotAllowedBy(ForwardingPolicy policy)
    {
        var doomed = new List<Mapping>();
        foreach (var mapping in _byPort.Values)
        {
            if (!policy.Enabled || (!mapping.Owner.Routed && !policy.PortRange.Contains(mapping.PublicPort))
                || policy.BlockedExternalPorts.Contains(mapping.PublicPort)
                || policy.BlockedInternalPorts.Contains(mapping.InternalPort))
                doomed.Add(mapping);
        }
        return doomed;
    }
}
