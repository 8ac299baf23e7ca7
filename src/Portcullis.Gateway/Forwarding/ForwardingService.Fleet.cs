namespace Portcullis.Gateway.Forwarding;

// A fleet changes one peer's static forwards at a time (a notification names the peer): replace that peer's rules
// without handing the service the whole set, which in a fleet may be 100 000 rules.
public sealed partial class ForwardingService
{
    /// <summary>
    /// Makes <paramref name="rules"/> the whole set of <paramref name="peerId"/>'s static forwards: its other rules go
    /// (from the kernel too when live), new ones come in, live at once when it is connected; a key another peer's rule
    /// held passes to this peer. Throws as <see cref="SetStaticForwards"/>; nothing changed then.
    /// </summary>
    public void ReplaceStaticForwardsOf(string peerId, IReadOnlyCollection<StaticForwardRule> rules)
    {
        ArgumentNullException.ThrowIfNull(peerId);
        ArgumentNullException.ThrowIfNull(rules);
        var wanted = new Dictionary<PortKey, StaticForwardRule>(rules.Count);
        foreach (var rule in rules)
        {
            var normalized = StaticForwardSet.Check(rule);
            if (normalized.PeerId != peerId)
                throw new ArgumentException($"A rule of peer {normalized.PeerId} was given as one of {peerId}'s.", nameof(rules));
            if (!wanted.TryAdd(StaticForwardSet.KeyOf(normalized), normalized))
                throw new ArgumentException($"Static forward {rule.PublicAddress} {rule.Protocol} {rule.ExternalPort} is given twice.", nameof(rules));
        }
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var removed = new List<PortKey>();
            foreach (var (key, rule) in _statics.Rules)
            {
                if (rule.PeerId == peerId && (!wanted.TryGetValue(key, out var next) || next != rule))
                    removed.Add(key);
            }
            var added = new List<StaticForwardRule>();
            foreach (var (key, rule) in wanted)
            {
                if (_statics.Rules.TryGetValue(key, out var current) && current == rule)
                    continue;
                if (current is not null && current.PeerId != peerId)
                    removed.Add(key);
                added.Add(rule);
            }
            if (removed.Count > 0 || added.Count > 0)
                ApplyStaticChangesLocked(removed, added);
        }
    }
}
