namespace Portcullis.Gateway.Forwarding;

/// <summary>A planned static change: the one table update's entries, and what the parts take once the kernel took them.</summary>
internal sealed class StaticChange(List<PortKey> removedKeys, List<StaticForwardRule> addedRules)
{
    public List<PortKey> RemovedKeys { get; } = removedKeys;

    public List<StaticForwardRule> AddedRules { get; } = addedRules;

    public List<ForwardingEntry> Remove { get; } = [];

    public List<ForwardingEntry> Add { get; } = [];

    /// <summary>Dynamic mappings on the new rules' keys: revoked (the operator's word beats a lease).</summary>
    public List<Mapping> Evicted { get; } = [];

    /// <summary>Pending removals the change removes from the kernel itself.</summary>
    public List<PortKey> ClearedPending { get; } = [];

    public HashSet<PortKey> RemovedLive { get; } = [];

    public Dictionary<PortKey, ForwardingEntry> AddedLive { get; } = [];
}
