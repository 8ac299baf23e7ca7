using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Portcullis.Gateway.Forwarding;
using Portcullis.Linux.Nftables;

namespace Portcullis.Gateway.Kernel;

/// <summary>
/// <see cref="IForwardingTable"/> on nftables through libnftables in-process: table <c>ip portcullis</c>, owned
/// entirely by us (layout in <see cref="NftScript"/>).
/// <list type="number">
/// <item>Install: one transaction creating the table, map and lease set if absent and refilling the chains.</item>
/// <item>Update: one transaction of element deletes and adds; after commit, conntrack entries of removed mappings
/// (those not re-added with the same target) are deleted so established flows stop.</item>
/// <item>List: JSON listings of the map and the lease set, joined; owners come from the lease comments.</item>
/// </list>
/// Namespace: both netlink sockets (nftables, ctnetlink) belong to the network namespace of the thread that constructed
/// this object, whichever thread calls it later.
/// </summary>
public sealed class NftForwardingTable : IForwardingTable
{
    private readonly NftContext _nft;
    private readonly Conntrack _conntrack;
    private readonly ILogger _logger;
    private GatewayNetwork? _network;
    private bool _disposed;
    private long _flowsDeleted;

    public NftForwardingTable(ILogger<NftForwardingTable>? logger = null)
    {
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _nft = new NftContext();
        try
        {
            // The kernel may lack filtered conntrack dumps (before 5.8): Conntrack falls back and says so once.
            _conntrack = new Conntrack(message => NftForwardingTableLog.ConntrackFallback(_logger, message));
        }
        catch
        {
            _nft.Dispose();
            throw;
        }
    }

    /// <summary>Tracked flows deleted since start because their mapping or "every port" route went away (metrics).</summary>
    public long FlowsDeleted => Interlocked.Read(ref _flowsDeleted);

    /// <summary>The table's name in family <c>ip</c>.</summary>
    public static string TableName => NftScript.Table;

    public void Install(GatewayNetwork network)
    {
        ForwardingValidation.Check(network);
        Run(NftScript.Install(network), "install the forwarding table");
        _network = network;
        NftForwardingTableLog.Installed(_logger, network.TunnelInterface, network.PublicInterface);
    }

    public IReadOnlyList<ForwardingEntry> List()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        string map, leases;
        try
        {
            map = _nft.RunJson(NftScript.ListMap());
            leases = _nft.RunJson(NftScript.ListLeases());
        }
        catch (NftException e) when (e.NftError.Contains("No such file or directory", StringComparison.Ordinal))
        {
            return [];
        }
        catch (NftException e)
        {
            throw new ForwardingTableException($"could not list the forwarding table: {e.NftError.Trim()}", e);
        }
        return NftListing.Parse(map, leases);
    }

    public void Update(IReadOnlyCollection<ForwardingEntry> remove, IReadOnlyCollection<ForwardingEntry> add)
    {
        ArgumentNullException.ThrowIfNull(remove);
        ArgumentNullException.ThrowIfNull(add);
        CheckEntries(remove, ForwardingValidation.CheckKeyAndTarget, nameof(remove));
        CheckEntries(add, ForwardingValidation.Check, nameof(add));
        var script = NftScript.Update(remove, add);
        if (script.Length == 0)
            return;
        Run(script, "update the forwarding map");
        NftForwardingTableLog.Updated(_logger, remove.Count, add.Count);
        EndFlows(remove, add);
    }

    public void SetDedicated(IReadOnlyCollection<DedicatedRoute> routes, IReadOnlySet<ushort> excludedPorts)
    {
        ForwardingValidation.Check(routes, excludedPorts, _network);
        var before = ListDedicated();
        Run(NftDedicatedScript.Replace(routes, excludedPorts), "set the dedicated addresses");
        NftForwardingTableLog.DedicatedSet(_logger, routes.Count);
        EndAllPortFlows(before, routes);
    }

    public IReadOnlyList<DedicatedRoute> ListDedicated()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        string egress, inbound;
        try
        {
            egress = _nft.RunJson(NftDedicatedScript.ListEgress());
            inbound = _nft.RunJson(NftDedicatedScript.ListInbound());
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
        Run(NftScript.Uninstall(), "remove the forwarding table");
        NftForwardingTableLog.Uninstalled(_logger);
        EndFlows(held, []);
        EndAllPortFlows(dedicated, []);
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _nft.Dispose();
        _conntrack.Dispose();
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

    // A removed mapping's flows go (DESIGN §3 inv. 5) unless the same key is re-added with the same target: a refresh.
    private void EndFlows(IReadOnlyCollection<ForwardingEntry> remove, IReadOnlyCollection<ForwardingEntry> add)
    {
        if (remove.Count == 0)
            return;
        var kept = new Dictionary<(System.Net.IPAddress, PortMapping.MappingProtocol, ushort), ForwardingEntry>();
        foreach (var entry in add)
            kept[entry.Key] = entry;
        var ended = new List<OriginalDestination>(remove.Count);
        foreach (var entry in remove)
        {
            if (kept.TryGetValue(entry.Key, out var again)
                && again.TunnelAddress.Equals(entry.TunnelAddress)
                && again.InternalPort == entry.InternalPort)
            {
                continue;
            }
            ended.Add(new OriginalDestination(NftScript.ProtocolName(entry.Protocol), entry.PublicAddress, entry.PublicPort));
        }
        try
        {
            var flows = _conntrack.Delete(ended);
            Interlocked.Add(ref _flowsDeleted, flows);
            NftForwardingTableLog.FlowsEnded(_logger, ended.Count, flows);
        }
        catch (IOException e)
        {
            // The map is already committed; failing now would misreport the kernel's state. The flows end at the
            // latest when conntrack times them out.
            NftForwardingTableLog.ConntrackFailed(_logger, e.Message);
        }
    }

    /// <summary>
    /// An "every port" route that went away (or now leads elsewhere) ends its inbound flows (DESIGN §3 inv. 5). Conntrack
    /// filters by original destination only, so every port of the address is named — one kernel dump per protocol —
    /// except the ports the mappings map still sends to the same tunnel address: those flows are a live mapping's.
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
            var mapped = new HashSet<(System.Net.IPAddress, PortMapping.MappingProtocol, ushort)>();
            foreach (var entry in List())
                mapped.Add(entry.Key);
            var ended = new List<OriginalDestination>();
            foreach (var route in gone)
            {
                foreach (var protocol in (ReadOnlySpan<PortMapping.MappingProtocol>)[PortMapping.MappingProtocol.Tcp, PortMapping.MappingProtocol.Udp])
                {
                    for (var port = 1; port <= ushort.MaxValue; port++)
                    {
                        if (!mapped.Contains((route.PublicAddress, protocol, (ushort)port)))
                            ended.Add(new OriginalDestination(NftScript.ProtocolName(protocol), route.PublicAddress, (ushort)port));
                    }
                }
            }
            var flows = _conntrack.Delete(ended);
            Interlocked.Add(ref _flowsDeleted, flows);
            NftForwardingTableLog.FlowsEnded(_logger, gone.Count, flows);
        }
        catch (Exception e) when (e is IOException or ForwardingTableException)
        {
            // Committed already: as in EndFlows, the flows end at the latest when conntrack times them out.
            NftForwardingTableLog.ConntrackFailed(_logger, e.Message);
        }
    }

    private static void CheckEntries(IReadOnlyCollection<ForwardingEntry> entries, Action<ForwardingEntry> check, string name)
    {
        var keys = new HashSet<(System.Net.IPAddress, PortMapping.MappingProtocol, ushort)>();
        foreach (var entry in entries)
        {
            check(entry);
            if (!keys.Add(entry.Key))
                throw new ArgumentException($"{name} holds the same key twice", name);
        }
    }
}
