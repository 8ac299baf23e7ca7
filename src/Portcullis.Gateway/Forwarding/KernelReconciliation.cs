using Portcullis.PortMapping;

namespace Portcullis.Gateway.Forwarding;

/// <summary>
/// What makes the kernel hold exactly what the state justifies: the parts' entries (live static forwards, leases) are
/// the desired set; a held element that is not desired, or points elsewhere, goes; a desired one that is missing
/// comes. Pure: the front lists the table, makes the one update, and only then clears the pending removals.
/// </summary>
internal static class KernelReconciliation
{
    public static (List<ForwardingEntry> Remove, List<ForwardingEntry> Add) Plan(
        IEnumerable<ForwardingEntry> held, StaticForwardSet statics, LeaseBook leases)
    {
        var desired = new Dictionary<PortKey, ForwardingEntry>(statics.Live);
        foreach (var mapping in leases.Mappings)
            desired[mapping.PortKey] = mapping.Entry;

        var remove = new List<ForwardingEntry>();
        var kept = new HashSet<PortKey>();
        foreach (var entry in held)
        {
            var key = PortKey.Of(entry);
            if (desired.TryGetValue(key, out var wanted) && SameTarget(entry, wanted))
                kept.Add(key);
            else
                remove.Add(entry);
        }
        var add = new List<ForwardingEntry>();
        foreach (var (key, entry) in desired)
        {
            if (!kept.Contains(key))
                add.Add(entry);
        }
        return (remove, add);
    }

    private static bool SameTarget(ForwardingEntry a, ForwardingEntry b) =>
        a.TunnelAddress.Equals(b.TunnelAddress) && a.InternalPort == b.InternalPort && a.Owner == b.Owner
        && RemoteFilter.Minimal(a.Filters).ToHashSet().SetEquals(RemoteFilter.Minimal(b.Filters))
        && Equals((a as PeerEntry)?.Remote, (b as PeerEntry)?.Remote);
}
