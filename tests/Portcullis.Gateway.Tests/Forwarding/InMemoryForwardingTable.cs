using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Kernel;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Tests.Forwarding;

/// <summary>
/// A double of the nftables backend with the kernel's rules: one transaction is all or nothing, deleting an
/// element that is not there fails it, and adding a key that stays held (not removed in the same transaction)
/// fails it. Records every committed update; can be told to refuse.
/// </summary>
internal sealed class InMemoryForwardingTable : IForwardingTable
{
    private readonly Dictionary<(System.Net.IPAddress, MappingProtocol, ushort), ForwardingEntry> _entries = [];

    public List<(ForwardingEntry[] Remove, ForwardingEntry[] Add)> Updates { get; } = [];

    /// <summary>Refuse every update from now on (the kernel state stays as it is).</summary>
    public bool Failing { get; set; }

    /// <summary>Refuse this many updates, then work again.</summary>
    public int FailNext { get; set; }

    public int FailedUpdates { get; private set; }

    /// <summary>Called at the start of every Update (e.g. to hold it while other requests queue up).</summary>
    public Action? BeforeUpdate { get; set; }

    /// <summary>An added entry this refuses fails its whole transaction, as a bad element fails nft's.</summary>
    public Func<ForwardingEntry, bool>? Refuses { get; set; }

    public int ListCalls { get; private set; }

    public IReadOnlyCollection<ForwardingEntry> Entries => _entries.Values;

    /// <summary>Puts an element in as if an earlier run had left it (bypasses Update and its record).</summary>
    public void Seed(ForwardingEntry entry) => _entries[entry.Key] = entry;

    /// <summary>Drops an element as the kernel's own timeout would.</summary>
    public void Expire(ForwardingEntry entry) => _entries.Remove(entry.Key);

    public ForwardingEntry? Find(MappingProtocol protocol, ushort publicPort)
    {
        foreach (var entry in _entries.Values)
        {
            if (entry.Protocol == protocol && entry.PublicPort == publicPort)
                return entry;
        }
        return null;
    }

    public void Install(GatewayNetwork network)
    {
    }

    public IReadOnlyList<ForwardingEntry> List()
    {
        ListCalls++;
        return [.. _entries.Values];
    }

    public void Update(IReadOnlyCollection<ForwardingEntry> remove, IReadOnlyCollection<ForwardingEntry> add)
    {
        BeforeUpdate?.Invoke();
        if (Refuses is { } refuses && add.Any(refuses))
        {
            FailedUpdates++;
            throw new ForwardingTableException("Error: Could not process rule: Invalid argument (test double)");
        }
        if (Failing || FailNext > 0)
        {
            if (FailNext > 0)
                FailNext--;
            FailedUpdates++;
            throw new ForwardingTableException("Error: Could not process rule: No such file or directory (test double)");
        }
        var removedKeys = new HashSet<(System.Net.IPAddress, MappingProtocol, ushort)>();
        foreach (var entry in remove)
        {
            if (!_entries.ContainsKey(entry.Key) || !removedKeys.Add(entry.Key))
                throw new ForwardingTableException("Error: Could not process rule: No such file or directory");
        }
        var addedKeys = new HashSet<(System.Net.IPAddress, MappingProtocol, ushort)>();
        foreach (var entry in add)
        {
            if ((_entries.ContainsKey(entry.Key) && !removedKeys.Contains(entry.Key)) || !addedKeys.Add(entry.Key))
                throw new ForwardingTableException("Error: Could not process rule: File exists");
        }
        foreach (var entry in remove)
            _entries.Remove(entry.Key);
        foreach (var entry in add)
            _entries.Add(entry.Key, entry);
        Updates.Add(([.. remove], [.. add]));
    }

    public void Uninstall()
    {
        _entries.Clear();
        Dedicated = [];
    }

    /// <summary>The dedicated routes held now, and every committed SetDedicated (dedicated addresses).</summary>
    public IReadOnlyList<DedicatedRoute> Dedicated { get; private set; } = [];

    public IReadOnlySet<ushort> DedicatedExcluded { get; private set; } = new HashSet<ushort>();

    public int DedicatedSets { get; private set; }

    public void SetDedicated(IReadOnlyCollection<DedicatedRoute> routes, IReadOnlySet<ushort> excludedPorts)
    {
        if (Failing || FailNext > 0)
        {
            if (FailNext > 0)
                FailNext--;
            FailedUpdates++;
            throw new ForwardingTableException("Error: Could not process rule: No such file or directory (test double)");
        }
        Dedicated = [.. routes];
        DedicatedExcluded = new HashSet<ushort>(excludedPorts);
        DedicatedSets++;
    }

    public IReadOnlyList<DedicatedRoute> ListDedicated() => Dedicated;

    public void Dispose()
    {
    }
}
