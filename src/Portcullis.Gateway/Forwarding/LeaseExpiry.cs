namespace Portcullis.Gateway.Forwarding;

/// <summary>
/// The expiry clock: the one <see cref="TimeProvider"/> timer that wakes the service for the next lease expiry and,
/// while removals the kernel refused are pending, for their next retry. Owns the timer, when it is due, and when the
/// pending removals are retried next; knows nothing of leases or the kernel (the front tells it the times). Not
/// thread-safe: the service's lock guards it, and the timer's callback takes that lock.
/// </summary>
internal sealed class LeaseExpiry : IDisposable
{
    /// <summary>How long pending removals wait between tries.</summary>
    public static readonly TimeSpan RemovalRetryInterval = TimeSpan.FromSeconds(5);

    // Never arm the timer for less than this: a zero due time fires inside Change on some TimeProviders, which
    // would re-enter the service in the middle of an update.
    private static readonly TimeSpan MinimumTimerDelay = TimeSpan.FromMilliseconds(1);

    private readonly ITimer _timer;
    private TimeSpan _due = TimeSpan.MaxValue;
    private TimeSpan _nextRetry;

    /// <param name="onFire">Called on the timer's thread; it takes the service's lock and calls <see cref="Fired"/>.</param>
    public LeaseExpiry(TimeProvider time, Action onFire) =>
        _timer = time.CreateTimer(static state => ((Action)state!)(), onFire, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

    /// <summary>When the timer fires next; <see cref="TimeSpan.MaxValue"/> when it is not armed.</summary>
    public TimeSpan Due => _due;

    /// <summary>Wakes the service at <paramref name="due"/> unless it wakes earlier anyway.</summary>
    public void Arm(TimeSpan due, TimeSpan now)
    {
        if (due >= _due)
            return;
        _due = due;
        var delay = due - now;
        _timer.Change(delay < MinimumTimerDelay ? MinimumTimerDelay : delay, Timeout.InfiniteTimeSpan);
    }

    /// <summary>The timer fired: nothing is armed until the service arms it again.</summary>
    public void Fired() => _due = TimeSpan.MaxValue;

    /// <summary>The kernel refused a removal that must happen: retry one interval from now.</summary>
    public void RetryLater(TimeSpan now)
    {
        _nextRetry = now + RemovalRetryInterval;
        Arm(_nextRetry, now);
    }

    /// <summary>Whether pending removals are due for another try at <paramref name="now"/>.</summary>
    public bool RetryDue(TimeSpan now) => now >= _nextRetry;

    /// <summary>Pending removals were tried at <paramref name="now"/>: the next try is one interval later.</summary>
    public void Retried(TimeSpan now) => _nextRetry = now + RemovalRetryInterval;

    /// <summary>After a wake: armed for the next expiry in <paramref name="leases"/> and, with removals pending, the next retry.</summary>
    public void Rearm(LeaseBook leases, TimeSpan now)
    {
        if (leases.TryPeekNextExpiry(out var next))
            Arm(next, now);
        if (leases.PendingCount > 0)
            Arm(_nextRetry, now);
    }

    public void Dispose() => _timer.Dispose();
}
