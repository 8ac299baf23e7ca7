namespace Portcullis.Gateway.Forwarding;

// How mappings end: lease expiry (the timer), session end, delete, revocation, a policy change. Every release
// quarantines the port against other peers; an expiry or a session end also remembers it for the peer's
// reconnect. Releases a caller asked for are all or nothing; expiry and session end must happen, so when the
// kernel refuses them the state lets go anyway and the elements wait in the lease book's pending set (their ports
// still reserved) that the timer (LeaseExpiry) retries until they are removed or their kernel timeout has removed them.
public sealed partial class ForwardingService
{
    internal static readonly TimeSpan RemovalRetryInterval = LeaseExpiry.RemovalRetryInterval;

    /// <summary>All or nothing; throws <see cref="ForwardingTableException"/> with the state unchanged.</summary>
    private void ReleaseLocked(List<Mapping> mappings, ReleaseReason reason)
    {
        _writer.Update(MapDecisions.EntriesOf(mappings), []);
        _commits.Released(mappings, reason);
    }

    private void ReleaseBestEffortLocked(List<Mapping> mappings, ReleaseReason reason)
    {
        if (!TryRemoveLocked(MapDecisions.EntriesOf(mappings), "removing"))
        {
            foreach (var mapping in mappings)
                _leases.Defer(mapping.Entry, mapping.KernelExpiresAt);
        }
        _commits.Released(mappings, reason);
    }

    // A removal that must happen: false when the kernel refused it, and the caller defers its entries to the retry.
    private bool TryRemoveLocked(IReadOnlyCollection<ForwardingEntry> entries, string operation)
    {
        if (_writer.TryUpdate(entries, [], operation))
            return true;
        ForwardingLog.RemovalDeferred(_logger, entries.Count);
        _expiry.RetryLater(Now);
        return false;
    }

    private void OnTimer()
    {
        lock (_lock)
        {
            if (_disposed)
                return;
            _expiry.Fired();
            var now = Now;
            if (_leases.TakeDue(now) is { } due)
                ReleaseBestEffortLocked(due, ReleaseReason.Expired);
            if (_leases.PendingCount > 0 && _expiry.RetryDue(now))
                RetryRemovalsLocked(now);
            SweepMemoriesLocked(now);
            _expiry.Rearm(_leases, now);
        }
    }

    private void RetryRemovalsLocked(TimeSpan now)
    {
        var before = _leases.PendingCount;
        var entries = _leases.PendingToRetry(now);
        // Failures stay quiet here; the summary below says how many are still waiting.
        if (entries.Count > 0)
            _writer.RemoveEach(entries, entry => _leases.RemovePending(PortKey.Of(entry)));
        if (_leases.PendingCount != before)
            ForwardingLog.DeferredRemovalsRetried(_logger, before - _leases.PendingCount, _leases.PendingCount);
        _expiry.Retried(now);
    }

    private void SweepMemoriesLocked(TimeSpan now) => _ports.Sweep(now);
}
