using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Portcullis.Gateway.Forwarding;
using Portcullis.Linux;
using Portcullis.Linux.Nftables;

namespace Portcullis.Gateway.Kernel;

/// <summary>
/// <see cref="IForwardingTable"/> on nftables through libnftables in-process: tables <c>ip portcullis</c> and (with IPv6)
/// <c>ip6 portcullis</c>, owned entirely by us (layouts in <see cref="NftScript"/>, <see cref="NftIpv6Script"/>); an
/// entry goes to its family's table, both in one transaction.
/// <list type="number">
/// <item>Install: one transaction creating the table, map and lease set if absent and refilling the chains.</item>
/// <item>Update: one transaction of element deletes and adds, written as netlink messages (<see cref="NftMappingElements"/>
/// through <see cref="NftSetElementWriter"/>: no text to format or parse on the requests' path); after commit, the removed mappings (those not re-added
/// with the same target) are handed to a <see cref="ConntrackReaper"/>, which ends their established flows by exact
/// tuple on its own thread within milliseconds — the caller does not wait for it; so are removed PEER mappings' flows
/// (by outbound tuple) and a removed peer's (<see cref="EndPeerFlows"/>), from the reaper's index by tunnel address.</item>
/// <item>List: JSON listings of the map and the lease set of each family, and of its remote-peer filters, joined;
/// owners come from the lease comments. Then each family's PEER map (<see cref="NftPeerScript"/>), whose elements carry
/// their own owner and timeout.</item>
/// </list>
/// Install, List and the dedicated addresses stay nft text through libnftables: rare, and their rules are far easier to
/// read and review as nft syntax than as netlink expressions.
/// Namespace: every netlink socket (libnftables', the element writer's, ctnetlink) belongs to the network namespace of the thread that constructed
/// this object, whichever thread calls it later.
/// </summary>
public sealed partial class NftForwardingTable : IForwardingTable
{
    private static readonly IReadOnlyList<PeerEntry> NoPeers = [];
    private readonly NftContext _nft;
    private readonly NftSetElementWriter _elements;
    private readonly HashSet<(System.Net.IPAddress, PortMapping.MappingProtocol, ushort)> _removedKeys = [];
    // Scratch of one update, reused so the steady state allocates nothing: keys checked (EndFlows keeps its own).
    private readonly HashSet<(System.Net.IPAddress, PortMapping.MappingProtocol, ushort)> _checkedKeys = [];
    private readonly Lock _updateLock = new();
    private readonly ConntrackReaper _reaper;
    private readonly ILogger _logger;
    private GatewayNetwork? _network;
    private bool _disposed;

    public NftForwardingTable(ILogger<NftForwardingTable>? logger = null)
    {
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _nft = new NftContext();
        try
        {
            _elements = new NftSetElementWriter();
            _reaper = new ConntrackReaper(new NftReaperLog(_logger));
        }
        catch
        {
            _elements?.Dispose();
            _nft.Dispose();
            throw;
        }
    }

    /// <summary>The table's name in family <c>ip</c>.</summary>
    public static string TableName => NftScript.Table;

    public void Install(GatewayNetwork network)
    {
        ForwardingValidation.Check(network);
        // Both families in one transaction: the IPv6 table (or its removal, without IPv6) never lags the IPv4 one.
        Run(NftScript.Install(network) + NftIpv6Script.Install(network) + NftPeerScript.Install6(network), "install the forwarding table");
        _network = network;
        _reaper.SetRoutedPrefix(network.Ipv6 is { PublicAddresses.Count: 0 } routed ? routed.TunnelPrefix : null);
        _reaper.SetTunnelPrefixes(network.Ipv6 is { } ipv6 ? [network.TunnelPrefix, ipv6.TunnelPrefix] : [network.TunnelPrefix]);
        NftForwardingTableLog.Installed(_logger, network.TunnelInterface, network.PublicInterface);
    }

    public IReadOnlyList<ForwardingEntry> List()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var entries = ListFamily(NftScript.Family);
        entries.AddRange(ListFamily(NftIpv6Script.Family));
        return entries;
    }

    // A family whose table is absent (IPv6 not configured, or nothing installed yet) holds nothing.
    private List<ForwardingEntry> ListFamily(string family)
    {
        string map, leases, peers, admitted;
        try
        {
            map = _nft.RunJson(NftScript.ListMap(family));
            leases = _nft.RunJson(NftScript.ListLeases(family));
            admitted = _nft.RunJson(NftFilterScript.ListAdmitted(family));
            peers = _nft.RunJson(NftPeerScript.List(family));
        }
        catch (NftException e) when (e.NftError.Contains("No such file or directory", StringComparison.Ordinal))
        {
            return [];
        }
        catch (NftException e)
        {
            throw new ForwardingTableException($"could not list the forwarding table: {e.NftError.Trim()}", e);
        }
        var entries = NftFilterListing.Attach(NftListing.Parse(map, leases), admitted);
        entries.AddRange(NftPeerScript.Parse(peers));
        return entries;
    }

    public void Update(IReadOnlyCollection<ForwardingEntry> remove, IReadOnlyCollection<ForwardingEntry> add)
    {
        ArgumentNullException.ThrowIfNull(remove);
        ArgumentNullException.ThrowIfNull(add);
        lock (_updateLock)
        {
            CheckEntries(remove, ForwardingValidation.CheckKeyAndTarget, nameof(remove));
            CheckEntries(add, ForwardingValidation.Check, nameof(add));
        }
        // PEER entries (outbound SNAT of one flow) go to their own map: split them off.
        List<PeerEntry>? removePeers = null, addPeers = null;
        if (AnyPeer(remove) || AnyPeer(add))
        {
            removePeers = [.. remove.OfType<PeerEntry>()];
            addPeers = [.. add.OfType<PeerEntry>()];
            remove = [.. remove.Where(e => e is not PeerEntry)];
            add = [.. add.Where(e => e is not PeerEntry)];
        }
        if (_network is { Ipv6: null } && (AnyIpv6(add) || (addPeers is not null && AnyIpv6(addPeers))))
            throw new ArgumentException("an IPv6 mapping needs IPv6 on the tunnel (GatewayNetwork.Ipv6)", nameof(add));
        if (remove.Count == 0 && add.Count == 0 && removePeers is null)
            return;
        // Before the commit: the same mapping back keeps its flows, its first new ones included.
        var reopened = add.Count > 0 && _reaper.Busy ? _reaper.Reopen(Ended(add)) : [];
        try
        {
            Write(remove, add, removePeers ?? NoPeers, addPeers ?? NoPeers);
        }
        catch (ForwardingTableException) when (reopened.Count > 0)
        {
            _reaper.End(reopened); // it did not come back after all: its old flows still go
            throw;
        }
        NftForwardingTableLog.Updated(_logger, remove.Count, add.Count);
        EndFlows(remove, add);
        if (removePeers is { Count: > 0 })
            EndPeerMappingFlows(removePeers, addPeers!);
    }

    public void SetDedicated(IReadOnlyCollection<DedicatedRoute> routes, IReadOnlySet<ushort> excludedPorts)
    {
        ForwardingValidation.Check(routes, excludedPorts, _network);
        var before = ListDedicated();
        // The IPv6 table's maps are written when that table exists (or IPv6 routes demand it: validation checked them).
        var ipv6Table = _network?.Ipv6 is not null || routes.Any(r => r.PublicAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6);
        Run(NftDedicatedScript.Replace(routes, excludedPorts, ipv6Table), "set the dedicated addresses");
        NftForwardingTableLog.DedicatedSet(_logger, routes.Count);
        EndAllPortFlows(before, routes);
    }

    public IReadOnlyList<DedicatedRoute> ListDedicated()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var routes = ListDedicated(NftDedicatedScript.ListEgress(), NftDedicatedScript.ListInbound());
        routes.AddRange(ListDedicated(NftDedicatedScript.ListIpv6Egress(), NftDedicatedScript.ListIpv6Inbound()));
        return routes;
    }

    // One family's maps; a table (or map) that is not there holds nothing.
    private List<DedicatedRoute> ListDedicated(string listEgress, string listInbound)
    {
        string egress, inbound;
        try
        {
            egress = _nft.RunJson(listEgress);
            inbound = _nft.RunJson(listInbound);
        }
        catch (NftException e) when (e.NftError.Contains("No such file or directory", StringComparison.Ordinal))
        {
            return [];
        }
        catch (NftException e)
        {
            throw new ForwardingTableException($"could not list the dedicated addresses: {e.NftError.Trim()}", e);
        }
        return NftDedicatedScript.Parse(egress, inbound);
    }

    /// <summary>
    /// Removes the table, then ends the tracked flows of the mappings it held. When our nat chains were the last in
    /// the namespace the kernel already drops NATed flows as the hooks go; with another nat table present (a host
    /// firewall) that is not guaranteed, hence the explicit cleanup.
    /// </summary>
    public void Uninstall()
    {
        var held = List();
        var dedicated = ListDedicated();
        Run(NftScript.Uninstall() + NftIpv6Script.Uninstall(), "remove the forwarding table");
        NftForwardingTableLog.Uninstalled(_logger);
        EndFlows(held, []);
        EndAllPortFlows(dedicated, []);
        // Shutting down: nothing waits on an answer, and the process may exit next.
        _reaper.WaitIdle(TimeSpan.FromSeconds(10));
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _reaper.Dispose();
        _elements.Dispose();
        _nft.Dispose();
    }

    private void Write(
        IReadOnlyCollection<ForwardingEntry> remove, IReadOnlyCollection<ForwardingEntry> add,
        IReadOnlyList<PeerEntry> removePeers, IReadOnlyList<PeerEntry> addPeers)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        lock (_updateLock)
        {
            try
            {
                _elements.Begin();
                NftMappingElements.Append(_elements, remove, add, _removedKeys);
                NftFilterElements.Append(_elements, remove, add);
                // Tags after the mappings' (0…R+A-1): a failed element names its entry, whichever kind.
                var peerTags = remove.Count + add.Count;
                NftPeerElements.Append(_elements, removePeers, addPeers, peerTags);
                _elements.Commit();
            }
            catch (NftBatchException e)
            {
                var entry = NftMappingElements.EntryOf(e.Tag, remove, add)
                    ?? NftPeerElements.EntryOf(e.Tag, removePeers, addPeers, remove.Count + add.Count);
                // The public side only, as for a mapping: a PEER's remote (whom a user talks to) stays out of messages.
                var kind = entry is PeerEntry ? "PEER " : "";
                var which = entry is null ? "" : $" ({kind}{NftScript.ProtocolName(entry.Protocol)} {entry.PublicAddress}:{entry.PublicPort})";
                throw new ForwardingTableException($"could not update the forwarding map{which}: {e.Message}", e);
            }
            catch (LinuxCallException e)
            {
                throw new ForwardingTableException($"could not update the forwarding map: {e.Message}", e);
            }
        }
    }

    private void Run(string script, string what)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        try
        {
            _nft.Run(script);
        }
        catch (NftException e)
        {
            throw new ForwardingTableException($"could not {what}: {e.NftError.Trim()}", e);
        }
    }

    // Under the update lock (the scratch set).
    private void CheckEntries(IReadOnlyCollection<ForwardingEntry> entries, Action<ForwardingEntry> check, string name)
    {
        _checkedKeys.Clear();
        try
        {
            var list = AsList(entries);
            for (var i = 0; i < list.Count; i++)
            {
                var entry = list[i];
                check(entry);
                if (!_checkedKeys.Add(entry.Key))
                    throw new ArgumentException($"{name} holds the same key twice", name);
            }
        }
        finally
        {
            _checkedKeys.Clear();
        }
    }

    private static bool AnyIpv6(IReadOnlyCollection<ForwardingEntry> entries)
    {
        var list = AsList(entries);
        for (var i = 0; i < list.Count; i++)
        {
            if (list[i].PublicAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
                return true;
        }
        return false;
    }

    private static bool AnyPeer(IReadOnlyCollection<ForwardingEntry> entries)
    {
        var list = AsList(entries);
        for (var i = 0; i < list.Count; i++)
        {
            if (list[i] is PeerEntry)
                return true;
        }
        return false;
    }

    // Lists (what callers pass) are walked by index: no enumerator allocated per update; anything else is copied once.
    private static IReadOnlyList<ForwardingEntry> AsList(IReadOnlyCollection<ForwardingEntry> entries) =>
        entries as IReadOnlyList<ForwardingEntry> ?? [.. entries];
}
