using System.Net;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Forwarding;

// Static forwards (StaticForwardSet says what they are): the front validates, lets the set plan the change, makes the
// one table update and commits to the set, the lease book and the allocator only after the kernel took it.
public sealed partial class ForwardingService
{
    private readonly StaticForwardSet _statics = new();

    /// <summary>Every static forward the service knows, with whether it is in the kernel now.</summary>
    public IReadOnlyList<StaticForwardState> StaticForwards
    {
        get
        {
            lock (_lock)
                return ForwardingReadModel.StaticForwards(_statics);
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
    public void SetStaticForwards(IReadOnlyCollection<StaticForwardRule> rules) => ReplaceStaticLocked(rules, peerId: null);

    /// <summary>
    /// Makes <paramref name="rules"/> the whole set of <paramref name="peerId"/>'s static forwards (a fleet changes one
    /// peer at a time, and may hold 100 000 rules): its other rules go (from the kernel too when live), new ones come
    /// in, live at once when it is connected; a key another peer's rule held passes to this peer. Throws as
    /// <see cref="SetStaticForwards"/>; nothing changed then.
    /// </summary>
    public void ReplaceStaticForwardsOf(string peerId, IReadOnlyCollection<StaticForwardRule> rules)
    {
        ArgumentNullException.ThrowIfNull(peerId);
        ReplaceStaticLocked(rules, peerId);
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
            var removed = _statics.KeysOf(peerId);
            if (removed.Count > 0)
                ApplyStaticChangesLocked(removed, []);
            return removed.Count;
        }
    }

    private void ReplaceStaticLocked(IReadOnlyCollection<StaticForwardRule> rules, string? peerId)
    {
        var wanted = StaticForwardSet.CheckAll(rules, peerId);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var (removed, added) = _statics.Diff(wanted, peerId);
            if (removed.Count > 0 || added.Count > 0)
                ApplyStaticChangesLocked(removed, added);
        }
    }

    // One transaction (throws with nothing changed when the kernel refuses it); the parts change only after it.
    private void ApplyStaticChangesLocked(List<PortKey> removedKeys, List<StaticForwardRule> addedRules)
    {
        var change = _statics.Plan(removedKeys, addedRules, _leases, _sessions, inKernel: _started);
        if (change.Remove.Count > 0 || change.Add.Count > 0)
            _writer.Update(change.Remove, change.Add);
        if (change.Evicted.Count > 0)
            _commits.Released(change.Evicted, ReleaseReason.Revoked);
        foreach (var key in change.ClearedPending)
            _leases.RemovePending(key);
        _statics.Commit(change);
        ForwardingLog.StaticForwardsChanged(_logger, removedKeys.Count, addedRules.Count, _statics.Live.Count);
    }

    // Session start: the peer's rules enter the kernel. A refusal leaves them dark (logged); the session stands.
    private void ActivateStaticLocked(PeerSession session)
    {
        if (_statics.Activation(session, _leases) is not { } change
            || !_writer.TryUpdate(change.Remove, change.Add, "adding static forwards"))
            return;
        foreach (var key in change.ClearedPending)
            _leases.RemovePending(key);
        _statics.Commit(change);
    }

    // Session end: the peer's live rules leave the kernel. This must happen: a refusal defers the removal (retried
    // by the timer; static entries have no kernel timeout to fall back on).
    private void DeactivateStaticLocked(string peerId)
    {
        if (_statics.TakeLiveOf(peerId) is not { } remove || TryRemoveLocked(remove, "removing static forwards"))
            return;
        foreach (var entry in remove)
            _leases.Defer(entry, TimeSpan.MaxValue);
    }
}
