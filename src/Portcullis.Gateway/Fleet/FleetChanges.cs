namespace Portcullis.Gateway.Fleet;

/// <summary>
/// What changed in the shared store since a gateway last looked: some peers (each with its forwards and dedicated
/// addresses), the policy, or — after a reconnect, when notifications may have been missed — everything.
/// </summary>
public sealed record FleetChanges(bool Everything, bool Policy, IReadOnlyCollection<string> PeerIds)
{
    /// <summary>More peers than this in one batch are read as everything: one scan beats thousands of lookups.</summary>
    public const int MaxPeersPerBatch = 500;

    public static FleetChanges All { get; } = new(true, true, []);

    public bool IsEmpty => !Everything && !Policy && PeerIds.Count == 0;

    /// <summary>The changes NOTIFY payloads name: <c>peer:ID</c> and <c>policy</c>; anything else reads as everything.</summary>
    public static FleetChanges FromPayloads(IEnumerable<string> payloads)
    {
        ArgumentNullException.ThrowIfNull(payloads);
        var peers = new HashSet<string>(StringComparer.Ordinal);
        var policy = false;
        foreach (var payload in payloads)
        {
            if (payload == "policy")
                policy = true;
            else if (payload.StartsWith("peer:", StringComparison.Ordinal) && payload.Length > 5)
                peers.Add(payload[5..]);
            else
                return All;
        }
        return peers.Count > MaxPeersPerBatch ? All : new FleetChanges(false, policy, peers);
    }
}
