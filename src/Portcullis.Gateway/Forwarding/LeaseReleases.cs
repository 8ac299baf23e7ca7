using Microsoft.Extensions.Logging;

namespace Portcullis.Gateway.Forwarding;

// How mappings end: lease expiry (the timer), session end, delete, revocation, a policy change. Every release
// quarantines the port against other peers; an expiry or a session end also remembers it for the peer's reconnect
// (LeaseCommits). Releases a caller asked for are all or nothing; expiry and session end must happen, so when the
// kernel refuses them the state lets go anyway and the elements wait in the lease book's pending set (their ports
// still reserved), which the timer retries until they are removed or their kernel timeout has removed them.

/// <summary>
/// The removals of the service's entries from the kernel, and the expiry clock's work. Owns no state of its own: it
/// changes the lease book (through <see cref="ILeaseCommits"/> and its pending set) only as the kernel's answer allows.
/// Not thread-safe: the service's lock guards it, and the timer's callback takes that lock.
/// </summary>
internal sealed class LeaseReleases(TableWriter writer, LeaseBook leases, ILeaseCommits commits, LeaseExpiry expiry, PortAllocator ports, ILogger logger)
{
    /// <summary>All or nothing; throws <see cref="ForwardingTableException"/> with the state unchanged. Returns how many went.</summary>
    public int Release(List<Mapping> mappings, ReleaseReason reason)
    {
        if (mappings.Count == 0)
            return 0;
        writer.Update(MapDecisions.EntriesOf(mappings), []);
        commits.Released(mappings, reason);
        return mappings.Count;
    }

    /// <summary>
    /// A session's end, in one table update: its live static entries and its mappings leave the kernel. A refusal
    /// defers them to the retry (static entries have no kernel timeout to fall back on); the state lets go either way.
    /// </summary>
    public void SessionEnded(List<ForwardingEntry>? statics, List<Mapping> mappings, TimeSpan now)
    {
        if (statics is null && mappings.Count == 0)
            return;
        RemoveOrDefer(statics, mappings, now);
        if (mappings.Count > 0)
            commits.Released(mappings, ReleaseReason.SessionEnded);
    }

    /// <summary>The expiry timer fired: due leases go, pending removals are retried when due, memories are swept.</summary>
    public void Tick(TimeSpan now)
    {
        expiry.Fired();
        if (leases.TakeDue(now) is { } due)
        {
            RemoveOrDefer(null, due, now);
            commits.Released(due, ReleaseReason.Expired);
        }
        if (leases.PendingCount > 0 && expiry.RetryDue(now))
            RetryRemovals(now);
        ports.Sweep(now);
        expiry.Rearm(leases, now);
    }

    // Removals that must happen, in one table update. A refusal defers them to the retry: a mapping's until its kernel
    // timeout, a static entry's for good (it has no kernel timeout to fall back on).
    private void RemoveOrDefer(List<ForwardingEntry>? statics, List<Mapping> mappings, TimeSpan now)
    {
        var entries = new List<ForwardingEntry>(statics ?? []);
        foreach (var mapping in mappings)
            entries.Add(mapping.Entry);
        if (writer.TryUpdate(entries, [], "removing"))
            return;
        ForwardingLog.RemovalDeferred(logger, entries.Count);
        expiry.RetryLater(now);
        foreach (var entry in statics ?? [])
            leases.Defer(entry, TimeSpan.MaxValue);
        foreach (var mapping in mappings)
            leases.Defer(mapping.Entry, mapping.KernelExpiresAt);
    }

    private void RetryRemovals(TimeSpan now)
    {
        var before = leases.PendingCount;
        var entries = leases.PendingToRetry(now);
        // Failures stay quiet here; the summary below says how many are still waiting.
        if (entries.Count > 0)
            writer.RemoveEach(entries, entry => leases.RemovePending(PortKey.Of(entry)));
        if (leases.PendingCount != before)
            ForwardingLog.DeferredRemovalsRetried(logger, before - leases.PendingCount, leases.PendingCount);
        expiry.Retried(now);
    }
}
