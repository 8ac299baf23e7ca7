using Portcullis.PortMapping;

namespace Portcullis.Gateway.Forwarding;

/// <summary>
/// A decided request that needs the kernel: the entries to remove and add, and the state change that makes it so
/// once the kernel took them. <see cref="Commit"/> runs under the service's lock, after the table update succeeded,
/// and returns the answer.
/// </summary>
internal sealed class MapChange(IReadOnlyCollection<ForwardingEntry> remove, IReadOnlyCollection<ForwardingEntry> add, string operation, Func<MapResult> commit)
{
    public IReadOnlyCollection<ForwardingEntry> Remove { get; } = remove;

    public IReadOnlyCollection<ForwardingEntry> Add { get; } = add;

    /// <summary>What the change does, for the log line of a refused update ("creating", "deleting", …).</summary>
    public string Operation { get; } = operation;

    public Func<MapResult> Commit { get; } = commit;
}

/// <summary>A request's decision: either its answer already (no kernel change needed), or a change to apply.</summary>
internal readonly struct Decision
{
    private Decision(MapResult? result, MapChange? change) => (Result, Change) = (result, change);

    public MapResult? Result { get; }

    public MapChange? Change { get; }

    public static implicit operator Decision(MapResult result) => new(result, null);

    public static implicit operator Decision(MapChange change) => new(null, change);
}
