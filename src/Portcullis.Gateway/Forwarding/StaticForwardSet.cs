using System.Net;
using System.Net.Sockets;
using Portcullis.Core.Net;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Forwarding;

// Static forwards: persistent (the store holds them), in the kernel exactly while their peer has a live session.
//  1. the rules are known whether or not their peer is connected: their ports are never handed to dynamic
//     allocation, on their public address and protocol, even while dark
//  2. session start → the peer's rules enter the kernel (owner = peer id, no timeout) at its tunnel address
//  3. session end → they leave it with their flows, like the peer's dynamic ones (in one table update with them)
//  4. a rule added over a port a dynamic mapping holds takes the port: that mapping is revoked in the same
//     transaction (the operator's word beats a lease)
// Reconciliation keeps the live entries and removes everything else unjustified.

/// <summary>
/// The static forwards: the rules (live or dark) and the live entries, the rules of connected peers as the kernel
/// holds them. It plans a change (<see cref="Plan"/>, <see cref="Activation"/>: the entries for the front's one table
/// update, the leases it evicts) and takes it (<see cref="Commit"/>) only after the kernel took it. Not thread-safe:
/// the service's lock guards it.
/// </summary>
internal sealed class StaticForwardSet
{
    private readonly Dictionary<PortKey, StaticForwardRule> _rules = [];
    private readonly Dictionary<PortKey, ForwardingEntry> _live = [];

    public IReadOnlyDictionary<PortKey, StaticForwardRule> Rules => _rules;

    public IReadOnlyDictionary<PortKey, ForwardingEntry> Live => _live;

    /// <summary>The peer a rule gives the key to (live or dark), or null.</summary>
    public string? OwnerOf(PortKey key) => _rules.TryGetValue(key, out var rule) ? rule.PeerId : null;

    public void SetRule(StaticForwardRule rule) => _rules[KeyOf(rule)] = rule;

    public void SetLive(ForwardingEntry entry) => _live[PortKey.Of(entry)] = entry;

    public void RemoveLive(PortKey key) => _live.Remove(key);

    /// <summary>The live entries of one peer, or null when it has none.</summary>
    public List<ForwardingEntry>? LiveOf(string peerId)
    {
        List<ForwardingEntry>? entries = null;
        foreach (var entry in _live.Values)
        {
            if (entry.Owner == peerId)
                (entries ??= []).Add(entry);
        }
        return entries;
    }

    /// <summary>
    /// Checks and keys <paramref name="rules"/>, all of <paramref name="peerId"/>'s when it is given. Throws
    /// <see cref="ArgumentException"/> for an invalid rule, another peer's rule, or a key given twice.
    /// </summary>
    public static Dictionary<PortKey, StaticForwardRule> CheckAll(IReadOnlyCollection<StaticForwardRule> rules, string? peerId)
    {
        ArgumentNullException.ThrowIfNull(rules);
        var wanted = new Dictionary<PortKey, StaticForwardRule>(rules.Count);
        foreach (var rule in rules)
        {
            var normalized = Check(rule);
            if (peerId is not null && normalized.PeerId != peerId)
                throw new ArgumentException($"A rule of peer {normalized.PeerId} was given as one of {peerId}'s.", nameof(rules));
            if (!wanted.TryAdd(KeyOf(normalized), normalized))
                throw new ArgumentException($"Static forward {rule.PublicAddress} {rule.Protocol} {rule.ExternalPort} is given twice.", nameof(rules));
        }
        return wanted;
    }

    /// <summary>
    /// What making <paramref name="wanted"/> the whole set takes — of every rule, or of <paramref name="peerId"/>'s
    /// only: the keys whose rule goes or changes, and the rules that come or change. With a peer, a key another peer's
    /// rule held passes to it.
    /// </summary>
    public (List<PortKey> Removed, List<StaticForwardRule> Added) Diff(Dictionary<PortKey, StaticForwardRule> wanted, string? peerId)
    {
        var removed = new List<PortKey>();
        foreach (var (key, rule) in _rules)
        {
            if ((peerId is null || rule.PeerId == peerId) && (!wanted.TryGetValue(key, out var next) || next != rule))
                removed.Add(key);
        }
        var added = new List<StaticForwardRule>();
        foreach (var (key, rule) in wanted)
        {
            if (_rules.TryGetValue(key, out var current) && current == rule)
                continue;
            if (peerId is not null && current is not null && current.PeerId != peerId)
                removed.Add(key);
            added.Add(rule);
        }
        return (removed, added);
    }

    /// <summary>What adding (or replacing with) one checked rule takes: nothing when it is in force already.</summary>
    public (List<PortKey> Removed, List<StaticForwardRule> Added) Diff(StaticForwardRule rule)
    {
        var key = KeyOf(rule);
        if (!_rules.TryGetValue(key, out var current))
            return ([], [rule]);
        return current == rule ? ([], []) : ([key], [rule]);
    }

    /// <summary>The keys of <paramref name="peerId"/>'s rules.</summary>
    public List<PortKey> KeysOf(string peerId)
    {
        var keys = new List<PortKey>();
        foreach (var (key, rule) in _rules)
        {
            if (rule.PeerId == peerId)
                keys.Add(key);
        }
        return keys;
    }

    /// <summary>
    /// Plans rules going (<paramref name="removedKeys"/>) and coming (<paramref name="addedRules"/>), in the kernel only
    /// when <paramref name="inKernel"/> (the service started): live entries of removed rules out, dynamic mappings and
    /// pending removals on the new rules' keys out, entries of new rules of connected peers in.
    /// </summary>
    public StaticChange Plan(List<PortKey> removedKeys, List<StaticForwardRule> addedRules, LeaseBook leases, SessionTable sessions, bool inKernel)
    {
        var change = new StaticChange(removedKeys, addedRules);
        if (!inKernel)
            return change;
        foreach (var key in removedKeys)
        {
            if (_live.TryGetValue(key, out var live))
            {
                change.Remove.Add(live);
                change.RemovedLive.Add(key);
            }
        }
        foreach (var rule in addedRules)
        {
            var key = KeyOf(rule);
            if (leases.TryGet(key, out var mapping))
            {
                change.Evicted.Add(mapping);
                change.Remove.Add(mapping.Entry);
            }
            else if (leases.TryGetPending(key, out var pending))
            {
                change.ClearedPending.Add(key);
                change.Remove.Add(pending);
            }
            if (sessions.TryGetByPeer(rule.PeerId, out var session) && EntryOf(rule, session) is { } entry)
                change.AddedLive[key] = entry;
        }
        change.Add.AddRange(change.AddedLive.Values);
        return change;
    }

    /// <summary>Plans a session's start: its dark rules enter the kernel, over pending removals of their keys; null when none.</summary>
    public StaticChange? Activation(PeerSession session, LeaseBook leases)
    {
        StaticChange? change = null;
        foreach (var (key, rule) in _rules)
        {
            if (rule.PeerId != session.PeerId || _live.ContainsKey(key) || EntryOf(rule, session) is not { } entry)
                continue;
            change ??= new StaticChange([], []);
            change.AddedLive[key] = entry;
            change.Add.Add(entry);
            if (leases.TryGetPending(key, out var pending))
            {
                change.Remove.Add(pending);
                change.ClearedPending.Add(key);
            }
        }
        return change;
    }

    /// <summary>
    /// Takes a change the kernel took, with what it does to the leases: evicted mappings are revoked, pending removals it
    /// made itself are cleared; then rules and live entries as planned.
    /// </summary>
    public void Commit(StaticChange change, ILeaseCommits commits, LeaseBook leases)
    {
        if (change.Evicted.Count > 0)
            commits.Released(change.Evicted, ReleaseReason.Revoked);
        foreach (var key in change.ClearedPending)
            leases.RemovePending(key);
        Commit(change);
    }

    /// <summary>Takes a change the kernel took: rules and live entries as planned (the leases are the caller's).</summary>
    public void Commit(StaticChange change)
    {
        foreach (var key in change.RemovedKeys)
        {
            _rules.Remove(key);
            if (change.RemovedLive.Contains(key))
                _live.Remove(key);
        }
        foreach (var rule in change.AddedRules)
            SetRule(rule);
        foreach (var entry in change.AddedLive.Values)
            SetLive(entry);
    }

    /// <summary>A session's end: its live entries leave the set and are returned for the kernel; null when none.</summary>
    public List<ForwardingEntry>? TakeLiveOf(string peerId)
    {
        var entries = LiveOf(peerId);
        if (entries is not null)
        {
            foreach (var entry in entries)
                _live.Remove(PortKey.Of(entry));
        }
        return entries;
    }

    /// <summary>
    /// The kernel entry of <paramref name="rule"/> for its peer's <paramref name="session"/>: at the session's tunnel
    /// address of the rule's family. Null — the rule stays dark — for an IPv6 rule without IPv6 inbound, and, with a
    /// routed prefix, for one that is not the peer's own /128 at its own port (nothing is translated there).
    /// </summary>
    public static ForwardingEntry? EntryOf(StaticForwardRule rule, PeerSession session)
    {
        if (rule.PublicAddress.AddressFamily == AddressFamily.InterNetwork)
            return EntryOf(rule, session.TunnelAddress);
        if (session.Ipv6 is not { } facet
            || (facet.Routed && (!rule.PublicAddress.Equals(facet.TunnelAddress) || rule.ExternalPort != rule.InternalPort)))
            return null;
        return EntryOf(rule, facet.TunnelAddress);
    }

    public static ForwardingEntry EntryOf(StaticForwardRule rule, IPAddress tunnelAddress) =>
        new(rule.PublicAddress, rule.Protocol, rule.ExternalPort, tunnelAddress, rule.InternalPort, rule.PeerId, null);

    public static PortKey KeyOf(StaticForwardRule rule) => new(rule.PublicAddress, rule.Protocol, rule.ExternalPort);

    public static StaticForwardRule Check(StaticForwardRule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        ArgumentNullException.ThrowIfNull(rule.PublicAddress);
        var address = rule.PublicAddress.Unmapped();
        if (address.AddressFamily != AddressFamily.InterNetwork && (!Configuration.TunnelIpv6.IsUnicast(address) || address.ScopeId != 0))
            throw new ArgumentException($"Static forward public address {rule.PublicAddress} is neither IPv4 nor a unicast IPv6 address without a zone.", nameof(rule));
        if (rule.Protocol is not (MappingProtocol.Tcp or MappingProtocol.Udp))
            throw new ArgumentException("A static forward's protocol is TCP or UDP.", nameof(rule));
        if (rule.ExternalPort == 0 || rule.InternalPort == 0)
            throw new ArgumentException("A static forward's ports must not be 0.", nameof(rule));
        if (!ForwardingEntry.IsValidOwner(rule.PeerId))
            throw new ArgumentException("A static forward's peer id is not a valid owner id.", nameof(rule));
        return address.Equals(rule.PublicAddress) ? rule : rule with { PublicAddress = address };
    }
}
