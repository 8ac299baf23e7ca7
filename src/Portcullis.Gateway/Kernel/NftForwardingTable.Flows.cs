using Portcullis.Gateway.Forwarding;
using Portcullis.Linux.Nftables;

namespace Portcullis.Gateway.Kernel;

// Ending the tracked flows of what an update or a dedicated-address change took away: all handed to the reaper's
// thread, the caller never waits (but tests may, through WaitForFlowCleanup).
public sealed partial class NftForwardingTable
{
    // Scratch of EndFlows, under the update lock: added entries by key.
    private readonly Dictionary<(System.Net.IPAddress, PortMapping.MappingProtocol, ushort), ForwardingEntry> _kept = [];

    /// <summary>Tracked flows deleted since start because their mapping or "every port" route went away (metrics).</summary>
    public long FlowsDeleted => _reaper.Deleted;

    /// <summary>
    /// Waits until the flows of every mapping removed before this call have been ended (tests and benchmarks; the
    /// forwarding service never waits). False on timeout.
    /// </summary>
    public bool WaitForFlowCleanup(TimeSpan timeout) => _reaper.WaitIdle(timeout);

    /// <summary>
    /// Queues the end of every tracked flow <paramref name="tunnelAddress"/> opened or was sent (its peer was removed)
    /// and returns at once: the reaper's thread takes them from its index of tunnel addresses' flows.
    /// </summary>
    public void EndPeerFlows(System.Net.IPAddress tunnelAddress) => _reaper.EndInvolving(tunnelAddress);

    // A removed mapping's flows go (DESIGN §3 inv. 5) unless the same key is re-added with the same target: a refresh.
    private void EndFlows(IReadOnlyCollection<ForwardingEntry> remove, IReadOnlyCollection<ForwardingEntry> add)
    {
        if (remove.Count == 0)
            return;
        List<ForwardingEntry>? ended = null;
        lock (_updateLock)
        {
            _kept.Clear();
            var adds = AsList(add);
            for (var i = 0; i < adds.Count; i++)
                _kept[adds[i].Key] = adds[i];
            var removes = AsList(remove);
            for (var i = 0; i < removes.Count; i++)
            {
                var entry = removes[i];
                if (!_kept.TryGetValue(entry.Key, out var again)
                    || !again.TunnelAddress.Equals(entry.TunnelAddress)
                    || again.InternalPort != entry.InternalPort)
                {
                    (ended ??= []).Add(entry);
                }
            }
            _kept.Clear();
        }
        if (ended is not null)
            _reaper.End(Ended(ended));
    }

    // A removed PEER mapping's flow goes too (DESIGN §3 inv. 5), by its exact outbound tuple, unless re-added with the
    // same public address and port (a refresh).
    private void EndPeerMappingFlows(List<PeerEntry> remove, List<PeerEntry> add)
    {
        var kept = add.Select(e => (e.TunnelAddress, e.Protocol, e.InternalPort, e.Remote, e.PublicAddress, e.PublicPort)).ToHashSet();
        var ended = remove.Where(e => !kept.Contains((e.TunnelAddress, e.Protocol, e.InternalPort, e.Remote, e.PublicAddress, e.PublicPort)))
            .Select(e => new OutboundFlow(NftScript.ProtocolName(e.Protocol), new System.Net.IPEndPoint(e.TunnelAddress, e.InternalPort), e.Remote))
            .ToList();
        _reaper.EndOutbound(ended);
    }

    /// <summary>
    /// An "every port" route that went away (or now leads elsewhere) ends its inbound flows (DESIGN §3 inv. 5): every
    /// port of the address except those the mappings map still holds — those flows are a live mapping's.
    /// </summary>
    private void EndAllPortFlows(IReadOnlyList<DedicatedRoute> before, IReadOnlyCollection<DedicatedRoute> after)
    {
        var kept = new HashSet<(System.Net.IPAddress, System.Net.IPAddress)>();
        foreach (var route in after)
        {
            if (route.ForwardAllPorts)
                kept.Add((route.PublicAddress, route.TunnelAddress));
        }
        List<DedicatedRoute>? gone = null;
        foreach (var route in before)
        {
            if (route.ForwardAllPorts && !kept.Contains((route.PublicAddress, route.TunnelAddress)))
                (gone ??= []).Add(route);
        }
        if (gone is null)
            return;
        try
        {
            var mapped = Keys(List()).ToHashSet();
            foreach (var route in gone)
                _reaper.EndAllPorts(route.PublicAddress, mapped);
        }
        catch (ForwardingTableException e)
        {
            // Committed already: as in EndFlows, the flows end at the latest when conntrack times them out.
            NftForwardingTableLog.ConntrackFailed(_logger, e.Message);
        }
    }

    // The reaper ends the flows a mapping carried: IPv4 and NAT66 ones it DNATed (public address . proto . port → peer .
    // port); a routed IPv6 pinhole's (key and target both the peer's own /128 . port) are those to it from outside the
    // routed prefix (SetRoutedPrefix), i.e. that entered from the public side.
    // (A loop, not LINQ: this runs on every update that removes or re-adds, and its iterators were a fifth of what the
    // request path allocated at 100 000 mappings present.)
    private static List<EndedMapping> Ended(IReadOnlyCollection<ForwardingEntry> entries)
    {
        var list = AsList(entries);
        var ended = new List<EndedMapping>(list.Count);
        for (var i = 0; i < list.Count; i++)
        {
            var entry = list[i];
            if (entry.PublicAddress.AddressFamily == entry.TunnelAddress.AddressFamily)
            {
                ended.Add(new EndedMapping(new OriginalDestination(NftScript.ProtocolName(entry.Protocol), entry.PublicAddress, entry.PublicPort),
                    entry.TunnelAddress, entry.InternalPort));
            }
        }
        return ended;
    }

    private static IEnumerable<FlowKey> Keys(IEnumerable<ForwardingEntry> entries) =>
        entries.Select(entry => ConntrackReaper.KeyOf(NftScript.ProtocolName(entry.Protocol), entry.PublicAddress, entry.PublicPort));
}
