namespace Portcullis.Linux.Nftables;

// Cleanups without the event index: what a dump finds, read into a scratch index or matched by destination.
public sealed partial class ConntrackReaper
{
    private ConntrackFlowIndex? _scratch;

    // Without the event index, IPv6 cleanups read the whole table (every family) into a scratch index and end the
    // flows it finds exactly: Conntrack.Delete's kernel-filtered dump speaks IPv4 only. O(table), as dumps are.
    private int EndV6ByDump(List<Work> work, ref int destinations)
    {
        var scratch = _scratch ??= new ConntrackFlowIndex();
        scratch.Clear();
        scratch.Routed = _index.Routed;
        _conntrack.DumpInto(scratch);
        foreach (var item in work)
        {
            if (item.Targets is { } targets)
            {
                foreach (var target in targets)
                {
                    if (!FlowAddress.IsV4(target.Key.Address))
                    {
                        destinations++;
                        scratch.Take(target, _doomed);
                    }
                }
            }
            else if (!FlowAddress.IsV4(item.Address))
            {
                destinations++;
                scratch.TakeAddress(item.Address, item.Keep!.Contains, _doomed);
            }
        }
        scratch.Clear();
        var deleted = _doomed.Count == 0 ? 0 : _conntrack.DeleteExact(_doomed);
        _doomed.Clear();
        return deleted;
    }

    // The IPv4 destinations of a mappings cleanup whose targets Reopen has not taken back (IPv6: EndV6ByDump).
    private static List<OriginalDestination> Remaining(Work item)
    {
        var left = new List<OriginalDestination>(item.Destinations!.Count);
        foreach (var destination in item.Destinations)
        {
            var key = KeyOf(destination.Protocol, destination.Address, destination.Port);
            if (FlowAddress.IsV4(key.Address) && item.Targets!.Exists(t => t.Key == key))
                left.Add(destination);
        }
        return left;
    }

    private static List<OriginalDestination> AllPorts(UInt128 address, IReadOnlySet<FlowKey> keep)
    {
        var ip = FlowAddress.ToAddress(address);
        var all = new List<OriginalDestination>();
        foreach (var (protocol, number) in (ReadOnlySpan<(string, byte)>)[("tcp", 6), ("udp", 17)])
        {
            for (var port = 1; port <= ushort.MaxValue; port++)
            {
                if (!keep.Contains(new FlowKey(address, number, (ushort)port)))
                    all.Add(new OriginalDestination(protocol, ip, (ushort)port));
            }
        }
        return all;
    }
}
