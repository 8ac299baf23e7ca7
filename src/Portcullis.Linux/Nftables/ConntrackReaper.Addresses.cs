using System.Net;

namespace Portcullis.Linux.Nftables;

/// <summary>
/// An outbound flow by its original tuple: from a tunnel address and port to a remote address and port ("tcp" or
/// "udp") — what a PCP PEER mapping source-NATs.
/// </summary>
public readonly record struct OutboundFlow(string Protocol, IPEndPoint Source, IPEndPoint Remote);

// Cleanups by tunnel address: a peer removed (every flow it opened or was sent), or PCP PEER mappings removed (their
// one outbound flow each). Same thread, same queue, same index as the mapping cleanups: from the address index when
// the events feed it (O(flows of that address)), else one dump into a scratch index.
public sealed partial class ConntrackReaper
{
    private readonly List<Work> _byAddress = [];

    /// <summary>
    /// The tunnel prefixes (IPv4 and IPv6) whose addresses' flows are indexed for <see cref="EndInvolving"/> and
    /// <see cref="EndOutbound"/>. Without them (or for an address outside them) those cleanups use a table dump.
    /// </summary>
    public void SetTunnelPrefixes(IReadOnlyCollection<IPNetwork> prefixes)
    {
        ArgumentNullException.ThrowIfNull(prefixes);
        var tunnel = prefixes.Select(ConntrackAddressIndex.PrefixOf).ToArray();
        lock (_gate)
        {
            if (_tunnel.SequenceEqual(tunnel))
                return;
            _tunnel = tunnel;
        }
        Wake();
    }

    /// <summary>
    /// Queues the end of every tracked flow <paramref name="address"/> opened or was sent (a tunnel address whose peer
    /// was removed) and returns at once. Call after the data path is cut (no peer owns the address).
    /// </summary>
    public void EndInvolving(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        Post(new Work(null, null, FlowAddress.Of(address), null) { Involving = true });
    }

    /// <summary>
    /// Queues the end of these outbound flows, by exact original tuple (removed PCP PEER mappings), and returns at once.
    /// Call after the map no longer holds them. Throws <see cref="ArgumentException"/> for a protocol other than tcp/udp.
    /// </summary>
    public void EndOutbound(IReadOnlyCollection<OutboundFlow> flows)
    {
        ArgumentNullException.ThrowIfNull(flows);
        if (flows.Count == 0)
            return;
        foreach (var flow in flows)
            _ = KeyOf(flow.Protocol, flow.Source.Address, (ushort)flow.Source.Port);
        Post(new Work(null, null, 0, null) { Outbound = [.. flows] });
    }

    // Takes the cleanups by address out of this round's work and does them.
    private void ReapAddresses(List<Work> work)
    {
        lock (_gate)
        {
            foreach (var item in work)
            {
                if (item.ByAddress)
                    _byAddress.Add(item);
            }
            if (_byAddress.Count == 0)
                return;
            work.RemoveAll(item => item.ByAddress);
        }
        var byIndex = _events is not null && _indexValid && _byAddress.TrueForAll(item => Covered(_index.ByAddress, item));
        try
        {
            var index = byIndex ? _index.ByAddress : DumpAddresses();
            foreach (var item in _byAddress)
                Take(index, item);
            if (!byIndex)
            {
                _scratch!.Clear(); // forgets what it read
                index.Prefixes = [];
            }
            var deleted = _doomed.Count == 0 ? 0 : _conntrack.DeleteExact(_doomed);
            Interlocked.Add(ref _deleted, deleted);
            _log.Ended(_byAddress.Count, deleted, byDump: !byIndex);
        }
        catch (Exception e) when (e is LinuxCallException or ObjectDisposedException)
        {
            _log.Failed(e.Message);
        }
        finally
        {
            _doomed.Clear();
            _byAddress.Clear();
        }
    }

    private static bool Covered(ConntrackAddressIndex index, Work item) =>
        item.Outbound is { } outbound
            ? outbound.TrueForAll(flow => index.Covers(FlowAddress.Of(flow.Source.Address)))
            : index.Covers(item.Address);

    private void Take(ConntrackAddressIndex index, Work item)
    {
        if (item.Outbound is null)
        {
            index.Take(item.Address, _doomed);
            return;
        }
        foreach (var flow in item.Outbound)
        {
            var source = KeyOf(flow.Protocol, flow.Source.Address, (ushort)flow.Source.Port);
            index.TakeOutbound(source.Address, source.Protocol, source.Port, FlowAddress.Of(flow.Remote.Address), (ushort)flow.Remote.Port, _doomed);
        }
    }

    // One whole-table dump (every family) into a scratch index holding exactly the addresses asked for.
    private ConntrackAddressIndex DumpAddresses()
    {
        var scratch = _scratch ??= new ConntrackFlowIndex();
        scratch.Clear();
        var addresses = new List<(UInt128, int)>();
        foreach (var item in _byAddress)
        {
            if (item.Outbound is { } outbound)
                addresses.AddRange(outbound.Select(flow => (FlowAddress.Of(flow.Source.Address), 128)));
            else
                addresses.Add((item.Address, 128));
        }
        scratch.ByAddress.Prefixes = addresses;
        _conntrack.DumpInto(scratch);
        return scratch.ByAddress;
    }
}
