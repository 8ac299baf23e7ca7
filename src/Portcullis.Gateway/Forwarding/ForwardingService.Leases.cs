using Portcullis.PortMapping;

namespace Portcullis.Gateway.Forwarding;

// How mappings end: lease expiry (the timer), session end, delete, revocation, a policy change. Every release
// quarantines the port against other peers; an expiry or a session end also remembers it for the peer's
// reconnect. Releases a caller asked for are all or nothing; expiry and session end must happen, so when the
// kernel refuses them the state lets go anyway and the elements wait in a pending set (their ports still
// reserved) that the timer retries until they are removed or their kernel timeout has removed them.
public sealed partial class ForwardingService
{
    internal static readonly TimeSpan RemovalRetryInterval = TimeSpan.FromSeconds(5);

    // Never arm the timer for less than this: a zero due time fires inside Change on some TimeProviders, which
    // would re-enter the service in the middle of an update.
    private static readonly TimeSpan MinimumTimerDelay = TimeSpan.FromMilliseconds(1);

    private TimeSpan _timerDue = TimeSpan.MaxValue;
    private TimeSpan _nextRemovalRetry;

    /// <summary>All or nothing; throws <see cref="ForwardingTableException"/> with the state unchanged.</summary>
    private void ReleaseLocked(List<Mapping> mappings, ReleaseReason reason)
    {
        _table.Update(EntriesOf(mappings), []);
        CommitReleaseLocked(mappings, reason);
    }

    private void ReleaseBestEffortLocked(List<Mapping> mappings, ReleaseReason reason)
    {
        try
        {
            _table.Update(EntriesOf(mappings), []);
        }
        catch (ForwardingTableException e)
        {
            ReportTableFailure("removing", e);
            foreach (var mapping in mappings)
                _leases.Defer(mapping.Entry, mapping.KernelExpiresAt);
            ForwardingLog.RemovalDeferred(_logger, mappings.Count);
            _nextRemovalRetry = Now + RemovalRetryInterval;
            ArmTimerLocked(_nextRemovalRetry);
        }
        CommitReleaseLocked(mappings, reason);
    }

    private void CommitReleaseLocked(List<Mapping> mappings, ReleaseReason reason)
    {
        var policy = _policy;
        var now = Now;
        var remember = reason is ReleaseReason.Expired or ReleaseReason.SessionEnded;
        foreach (var mapping in mappings)
        {
            _leases.Remove(mapping);
            _ports.Released(mapping, remember, policy, now);
            if (policy.AuditLog)
            {
                ForwardingLog.AuditRemoved(_logger, reason.ToString(), mapping.Owner.PeerId, mapping.Protocol,
                    mapping.PublicAddress, mapping.PublicPort, mapping.Owner.TunnelAddress, mapping.InternalPort);
            }
        }
    }

    private void ArmTimerLocked(TimeSpan due)
    {
        if (due >= _timerDue)
            return;
        _timerDue = due;
        var delay = due - Now;
        _timer.Change(delay < MinimumTimerDelay ? MinimumTimerDelay : delay, Timeout.InfiniteTimeSpan);
    }

    private void OnTimer()
    {
        lock (_lock)
        {
            if (_disposed)
                return;
            _timerDue = TimeSpan.MaxValue;
            var now = Now;
            ExpireDueLocked(now);
            RetryRemovalsLocked(now);
            SweepMemoriesLocked(now);
            if (_leases.TryPeekNextExpiry(out var next))
                ArmTimerLocked(next);
            if (_leases.PendingCount > 0)
                ArmTimerLocked(_nextRemovalRetry);
        }
    }

    private void ExpireDueLocked(TimeSpan now)
    {
        if (_leases.TakeDue(now) is { } due)
            ReleaseBestEffortLocked(due, ReleaseReason.Expired);
    }

    private void RetryRemovalsLocked(TimeSpan now)
    {
        if (_leases.PendingCount == 0 || now < _nextRemovalRetry)
            return;
        var before = _leases.PendingCount;
        var entries = _leases.PendingToRetry(now);
        if (entries.Count > 0)
        {
            try
            {
                _table.Update(entries, []);
                _leases.ClearPending();
            }
            catch (ForwardingTableException)
            {
                // One element the kernel no longer holds fails the whole transaction: try each on its own.
                // Failures stay quiet here; the summary below says how many are still waiting.
                foreach (var entry in entries)
                {
                    try
                    {
                        _table.Update([entry], []);
                        _leases.RemovePending(PortKey.Of(entry));
                    }
                    catch (ForwardingTableException)
                    {
                    }
                }
            }
        }
        if (_leases.PendingCount != before)
            ForwardingLog.DeferredRemovalsRetried(_logger, before - _leases.PendingCount, _leases.PendingCount);
        _nextRemovalRetry = now + RemovalRetryInterval;
    }

    private void SweepMemoriesLocked(TimeSpan now) => _ports.Sweep(now);

    private static ForwardingEntry[] EntriesOf(List<Mapping> mappings) => MapDecisions.EntriesOf(mappings);
}
