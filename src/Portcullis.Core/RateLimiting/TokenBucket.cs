namespace Portcullis.Core.RateLimiting;

/// <summary>
/// A thread-safe token bucket on caller-supplied time: <see cref="Burst"/> events at once, then
/// <see cref="RatePerSecond"/> events per second. It starts full.
/// </summary>
/// <remarks>
/// <c>now</c> is a monotonic reading from any fixed origin (e.g. <see cref="TimeProvider.GetTimestamp"/>
/// turned into a <see cref="TimeSpan"/>), so tests run on virtual time.
/// </remarks>
public sealed class TokenBucket
{
    private readonly Lock _lock = new();
    private readonly long _cost;
    private readonly long _capacity;
    private TokenBucketState _state;

    public TokenBucket(int ratePerSecond, int burst, TimeSpan now)
    {
        (_cost, _capacity) = CostAndCapacity(ratePerSecond, burst);
        RatePerSecond = ratePerSecond;
        Burst = burst;
        _state = TokenBucketState.Full(now, _capacity);
    }

    public int RatePerSecond { get; }

    public int Burst { get; }

    /// <summary>Takes one token if there is one.</summary>
    public bool TryTake(TimeSpan now)
    {
        lock (_lock)
            return _state.TryTake(now, _cost, _capacity);
    }

    /// <summary>Cost of one event in ticks of credit and the bucket size, after checking the arguments.</summary>
    internal static (long Cost, long Capacity) CostAndCapacity(int ratePerSecond, int burst)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ratePerSecond, 1);
        // One tick is the resolution of the credit; a faster rate would cost nothing.
        ArgumentOutOfRangeException.ThrowIfGreaterThan(ratePerSecond, (int)TimeSpan.TicksPerSecond);
        ArgumentOutOfRangeException.ThrowIfLessThan(burst, 1);
        var cost = TimeSpan.TicksPerSecond / ratePerSecond;
        return (cost, cost * burst);
    }
}
