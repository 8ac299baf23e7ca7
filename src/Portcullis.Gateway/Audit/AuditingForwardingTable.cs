using System.Net;
using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Kernel;
using Portcullis.Gateway.Store;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Audit;

/// <summary>
/// Feeds the audit trail from what actually reached the kernel, around the real table: a mapping starts when its
/// element is committed and ends when it is removed, whichever part of the service asked (a lease, a static forward, a
/// revoke, a session end, a policy change). A refresh (removed and added again with the same target) is no change.
/// A listing (reconciliation at start) is a sync point: what the kernel holds is live. Only changes the commit took are
/// recorded; a refused transaction records nothing. Not thread-safe, as the table it wraps.
/// A dedicated route is recorded as the address's <see cref="AuditRecord.EveryPort"/> record, for TCP and UDP, from the
/// commit that sets it to the one that removes it or gives it another peer or tunnel address: its egress leaves from
/// the address whether or not "every port" forwarding is on, so any port of it answers for its peer.
/// </summary>
internal sealed class AuditingForwardingTable(IForwardingTable inner, AuditRecorder recorder, TimeProvider time) : IForwardingTable
{
    private readonly Dictionary<(IPAddress, MappingProtocol, ushort), ForwardingEntry> _live = [];
    private static readonly MappingProtocol[] BothProtocols = [MappingProtocol.Tcp, MappingProtocol.Udp];
    private readonly Dictionary<IPAddress, DedicatedRoute> _dedicated = [];

    public void Install(GatewayNetwork network) => inner.Install(network);

    public IReadOnlyList<ForwardingEntry> List()
    {
        var held = inner.List();
        var changes = new List<AuditChange>();
        var now = time.GetUtcNow();
        var seen = new HashSet<(IPAddress, MappingProtocol, ushort)>();
        foreach (var entry in held)
        {
            seen.Add(entry.Key);
            if (_live.TryGetValue(entry.Key, out var known) && SameTarget(known, entry))
                continue;
            if (known is not null)
                changes.Add(End(entry, now));
            _live[entry.Key] = entry;
            changes.Add(Start(entry, now));
        }
        foreach (var (key, entry) in _live.ToArray())
        {
            if (seen.Contains(key))
                continue;
            _live.Remove(key);
            changes.Add(End(entry, now));
        }
        recorder.Post(changes);
        return held;
    }

    public void Update(IReadOnlyCollection<ForwardingEntry> remove, IReadOnlyCollection<ForwardingEntry> add)
    {
        inner.Update(remove, add);
        var now = time.GetUtcNow();
        var added = new Dictionary<(IPAddress, MappingProtocol, ushort), ForwardingEntry>();
        foreach (var entry in add)
            added[entry.Key] = entry;
        var changes = new List<AuditChange>();
        foreach (var entry in remove)
        {
            if (added.TryGetValue(entry.Key, out var again) && SameTarget(again, entry) && _live.ContainsKey(entry.Key))
                continue;
            if (_live.Remove(entry.Key))
                changes.Add(End(entry, now));
        }
        foreach (var entry in add)
        {
            if (_live.TryGetValue(entry.Key, out var known))
            {
                if (SameTarget(known, entry))
                    continue;
                changes.Add(End(known, now));
            }
            _live[entry.Key] = entry;
            changes.Add(Start(entry, now));
        }
        recorder.Post(changes);
    }

    public void SetDedicated(IReadOnlyCollection<DedicatedRoute> routes, IReadOnlySet<ushort> excludedPorts)
    {
        inner.SetDedicated(routes, excludedPorts);
        var now = time.GetUtcNow();
        var changes = new List<AuditChange>();
        var next = new Dictionary<IPAddress, DedicatedRoute>(routes.Count);
        foreach (var route in routes)
        {
            if (route.Owner is null)
                continue;
            next[route.PublicAddress] = route;
            if (_dedicated.TryGetValue(route.PublicAddress, out var known) && SameHolder(known, route))
                continue;
            if (known is not null)
                EndDedicated(changes, known, now);
            StartDedicated(changes, route, now);
        }
        foreach (var (address, route) in _dedicated)
        {
            if (!next.ContainsKey(address))
                EndDedicated(changes, route, now);
        }
        _dedicated.Clear();
        foreach (var (address, route) in next)
            _dedicated[address] = route;
        recorder.Post(changes);
    }

    public IReadOnlyList<DedicatedRoute> ListDedicated() => inner.ListDedicated();

    public void Uninstall()
    {
        inner.Uninstall();
        var now = time.GetUtcNow();
        var changes = new List<AuditChange>(_live.Count);
        foreach (var entry in _live.Values)
            changes.Add(End(entry, now));
        _live.Clear();
        foreach (var route in _dedicated.Values)
            EndDedicated(changes, route, now);
        _dedicated.Clear();
        recorder.Post(changes);
    }

    public void Dispose() => inner.Dispose();

    // Same peer, same target (and for a PEER the same remote): a refresh or a restart that kept the element, not a new holder.
    private static bool SameTarget(ForwardingEntry a, ForwardingEntry b) =>
        a.TunnelAddress.Equals(b.TunnelAddress) && a.InternalPort == b.InternalPort && a.Owner == b.Owner
        && Equals((a as PeerEntry)?.Remote, (b as PeerEntry)?.Remote);

    // "Every port" turning on and off with the peer's session is no new holder: the egress stayed the peer's.
    private static bool SameHolder(DedicatedRoute a, DedicatedRoute b) =>
        a.TunnelAddress.Equals(b.TunnelAddress) && a.Owner == b.Owner;

    private void StartDedicated(List<AuditChange> changes, DedicatedRoute route, DateTimeOffset now)
    {
        var start = new AuditStart(route.TunnelAddress, AuditRecord.EveryPort, route.Owner!, recorder.NameOf(route.Owner!));
        foreach (var protocol in BothProtocols)
            changes.Add(new AuditChange(route.PublicAddress, protocol, AuditRecord.EveryPort, now, start));
    }

    private static void EndDedicated(List<AuditChange> changes, DedicatedRoute route, DateTimeOffset now)
    {
        foreach (var protocol in BothProtocols)
            changes.Add(AuditChange.End(route.PublicAddress, protocol, AuditRecord.EveryPort, now));
    }

    private AuditChange Start(ForwardingEntry entry, DateTimeOffset now) =>
        new(entry.PublicAddress, entry.Protocol, entry.PublicPort, now,
            new AuditStart(entry.TunnelAddress, entry.InternalPort, entry.Owner, recorder.NameOf(entry.Owner)));

    private static AuditChange End(ForwardingEntry entry, DateTimeOffset now) =>
        AuditChange.End(entry.PublicAddress, entry.Protocol, entry.PublicPort, now);
}
