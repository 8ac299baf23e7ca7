namespace Portcullis.Core.RateLimiting;

/// <summary>
/// The arithmetic of a token bucket, kept in time units so refilling is one subtraction: a packet
/// costs <c>cost</c> ticks of credit, the bucket holds at most <c>capacity</c>. The owner serializes access.
/// </summary>
internal struct TokenBucketState
{
    private long _credit;
    private TimeSpan _last;

    public static TokenBucketState Full(TimeSpan now, long capacity) => new() { _credit = capacity, _last = now };

    public readonly TimeSpan LastActivity => _last;

    public bool TryTake(TimeSpan now, long cost, long capacity)
    {
        // A clock that steps back earns nothing rather than a negative refill.
        if (now > _last)
        {
            var elapsed = (now - _last).Ticks;
            _credit = elapsed >= capacity - _credit ? capacity : _credit + elapsed;
            _last = now;
        }
        if (_credit < cost)
            return false;
        _credit -= cost;
        return true;
    }
}
