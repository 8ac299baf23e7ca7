using System.Net;
using System.Net.Sockets;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Forwarding;

// Static forwards: persistent (the store holds them), in the kernel exactly while their peer has a live session.
//  1. the rules (StaticForwardSet.Rules) are known whether or not their peer is connected: their ports are never handed
//     to dynamic allocation, on their public address and protocol, even while dark
//  2. session start → the peer's rules enter the kernel (owner = peer id, no timeout) at its tunnel address
//  3. session end → they leave it with their flows (the table flushes conntrack), like the peer's dynamic ones
//  4. a rule added over a port a dynamic mapping holds takes the port: that mapping is revoked in the same
//     transaction (the operator's word beats a lease)
// Reconciliation keeps the live entries (StaticForwardSet.Live) and removes everything else unjustified.
public sealed partial class ForwardingService
{
    private readonly StaticForwardSet _statics = new();

    /// <summary>Every static forward the service knows, with whether it is in the kernel now.</summary>
    public IReadOnlyList<StaticForwardState> StaticForwards
    {
        get
        {
            lock (_lock)
            {
                var list = new List<StaticForwardState>(_statics.Rules.Count);
                foreach (var (key, rule) in _statics.Rules)
                    list.Add(new StaticForwardState(rule, _statics.Live.ContainsKey(key)));
                return list;
            }
        }
    }

    /// <summary>How many static forwards are in the kernel now.</summary>
    public int LiveStaticForwardCount
    {
        get
        {
            lock (_lock)
                return _statics.Live.Count;
        }
    }

    /// <summary>
    /// Replaces the whole set of static forwards (the host calls it with the store's at start; may be called before
    /// <see cref="Start"/>). Rules of connected peers go live at once, removed ones leave the kernel. Throws
    /// <see cref="ArgumentException"/> for an invalid rule or a key given twice, and
    /// <see cref="ForwardingTableException"/> when the kernel refuses; nothing changed then.
    /// </summary>
    public void SetStaticForwards(IReadOnlyCollection<StaticForwardRule> rules)
    {
        ArgumentNullException.ThrowIfNull(rules);
        var wanted = new Dictionary<PortKey, StaticForwardRule>(rules.Count);
        foreach (var rule in rules)
        {
            var normalized = StaticForwardSet.Check(rule);
            if (!wanted.TryAdd(StaticForwardSet.KeyOf(normalized), normalized))
                throw new ArgumentException($"Static forward {rule.PublicAddress} {rule.Protocol} {rule.ExternalPort} is given twice.", nameof(rules));
        }
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var removed = new List<PortKey>();
            foreach (var (key, rule) in _statics.Rules)
            {
                if (!wanted.TryGetValue(key, out var next) || next != rule)
                    removed.Add(key);
            }
            var added = new List<StaticForwardRule>();
            foreach (var (key, rule) in wanted)
            {
                if (!_statics.Rules.TryGetValue(key, out var current) || current != rule)
                    added.Add(rule);
            }
            ApplyStaticChangesLocked(removed, added);
        }
    }

    /// <summary>
    /// Adds a static forward, or replaces the one with the same key; live at once when its peer is connected. A
    /// dynamic mapping holding the port is revoked. Throws as <see cref="SetStaticForwards"/>.
    /// </summary>
    public void AddStaticForward(StaticForwardRule rule)
    {
        var normalized = StaticForwardSet.Check(rule);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var key = StaticForwardSet.KeyOf(normalized);
            if (_statics.Rules.TryGetValue(key, out var current) && current == normalized)
                return;
            ApplyStaticChangesLocked(current is null ? [] : [key], [normalized]);
        }
    }

    /// <summary>Removes a static forward (from the kernel too, with its flows, when live). False when there is none.</summary>
    public bool RemoveStaticForward(IPAddress publicAddress, MappingProtocol protocol, ushort externalPort)
    {
        ArgumentNullException.ThrowIfNull(publicAddress);
        var key = new PortKey(Normalize(publicAddress), protocol, externalPort);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_statics.Rules.ContainsKey(key))
                return false;
            ApplyStaticChangesLocked([key], []);
            return true;
        }
    }

    /// <summary>Removes every static forward of one peer (a removed peer); returns how many.</summary>
    public int RemoveStaticForwardsOf(string peerId)
    {
        ArgumentNullException.ThrowIfNull(peerId);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var removed = new List<PortKey>();
            foreach (var (key, rule) in _statics.Rules)
            {
                if (rule.PeerId == peerId)
                    removed.Add(key);
            }
            if (removed.Count > 0)
                ApplyStaticChangesLocked(removed, []);
            return removed.Count;
        }
    }

    // One transaction: live entries of removed rules out, dynamic mappings and deferred removals on the new rules'
    // keys out, live entries of new rules of connected peers in. State changes only after the kernel took it.
    private void ApplyStaticChangesLocked(List<PortKey> removedKeys, List<StaticForwardRule> addedRules)
    {
        var remove = new List<ForwardingEntry>();
        var add = new List<ForwardingEntry>();
        var evicted = new List<Mapping>();
        var clearedPending = new List<PortKey>();
        var removedLive = new HashSet<PortKey>();
        var addedLive = new Dictionary<PortKey, ForwardingEntry>();
        if (_started)
        {
            foreach (var key in removedKeys)
            {
                if (_statics.Live.TryGetValue(key, out var live))
                {
                    remove.Add(live);
                    removedLive.Add(key);
                }
            }
            foreach (var rule in addedRules)
            {
                var key = StaticForwardSet.KeyOf(rule);
                if (_leases.TryGet(key, out var mapping))
                {
                    evicted.Add(mapping);
                    remove.Add(mapping.Entry);
                }
                else if (_leases.TryGetPending(key, out var pending))
                {
                    clearedPending.Add(key);
                    remove.Add(pending);
                }
                if (_sessions.TryGetByPeer(rule.PeerId, out var session) && StaticForwardSet.EntryOf(rule, session) is { } entry)
                    addedLive[key] = entry;
            }
            add.AddRange(addedLive.Values);
            if (remove.Count > 0 || add.Count > 0)
                _table.Update(remove, add);
        }

        if (evicted.Count > 0)
            CommitReleaseLocked(evicted, ReleaseReason.Revoked);
        foreach (var key in clearedPending)
            _leases.RemovePending(key);
        foreach (var key in removedKeys)
        {
            _statics.RemoveRule(key);
            if (removedLive.Contains(key))
                _statics.RemoveLive(key);
        }
        foreach (var rule in addedRules)
            _statics.SetRule(rule);
        foreach (var entry in addedLive.Values)
            _statics.SetLive(entry);
        ForwardingLog.StaticForwardsChanged(_logger, removedKeys.Count, addedRules.Count, _statics.Live.Count);
    }

    // Session start: the peer's rules enter the kernel. A refusal leaves them dark (logged); the session stands.
    private void ActivateStaticLocked(PeerSession session)
    {
        List<ForwardingEntry>? add = null;
        List<ForwardingEntry>? remove = null;
        List<PortKey>? clearedPending = null;
        foreach (var (key, rule) in _statics.Rules)
        {
            if (rule.PeerId != session.PeerId || _statics.Live.ContainsKey(key))
                continue;
            if (StaticForwardSet.EntryOf(rule, session) is not { } entry)
                continue;
            (add ??= []).Add(entry);
            if (_leases.TryGetPending(key, out var pending))
            {
                (remove ??= []).Add(pending);
                (clearedPending ??= []).Add(key);
            }
        }
        if (add is null)
            return;
        if (!TryUpdateTable((IReadOnlyCollection<ForwardingEntry>?)remove ?? [], add, "adding static forwards"))
            return;
        if (clearedPending is not null)
        {
            foreach (var key in clearedPending)
                _leases.RemovePending(key);
        }
        foreach (var entry in add)
            _statics.SetLive(entry);
    }

    // Session end: the peer's live rules leave the kernel. This must happen: a refusal defers the removal (retried
    // by the timer; static entries have no kernel timeout to fall back on).
    private void DeactivateStaticLocked(string peerId)
    {
        var remove = _statics.LiveOf(peerId);
        if (remove is null)
            return;
        foreach (var entry in remove)
            _statics.RemoveLive(PortKey.Of(entry));
        try
        {
            _table.Update(remove, []);
        }
        catch (ForwardingTableException e)
        {
            ReportTableFailure("removing static forwards", e);
            foreach (var entry in remove)
                _leases.Defer(entry, TimeSpan.MaxValue);
            ForwardingLog.RemovalDeferred(_logger, remove.Count);
            _nextRemovalRetry = Now + RemovalRetryInterval;
            ArmTimerLocked(_nextRemovalRetry);
        }
    }
}
