using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Portcullis.Core.Io;

namespace Portcullis.Core.RateLimiting;

/// <summary>
/// Per-source token buckets for handshake messages, as the kernel's and wireguard-go's ratelimiter:
/// keyed by the IPv4 address or the IPv6 /64 (one host usually owns a whole /64), ports ignored.
/// Thread-safe. An existing source costs no allocation; idle sources are swept at most once per
/// <see cref="SourceRateLimiterOptions.IdleTimeout"/>, amortized inside <see cref="Allow"/>.
/// </summary>
public sealed class SourceRateLimiter
{
    private static readonly UInt128 IPv6Slash64 = UInt128.MaxValue << 64;

    private readonly Lock _lock = new();
    private readonly Dictionary<UInt128, TokenBucketState> _sources = [];
    private readonly long _cost;
    private readonly long _capacity;
    private readonly TimeSpan _idleTimeout;
    private readonly int _maxSources;
    private TimeSpan _lastSweep;

    public SourceRateLimiter()
        : this(new SourceRateLimiterOptions())
    {
    }

    public SourceRateLimiter(SourceRateLimiterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxSources, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.IdleTimeout, TimeSpan.Zero);
        (_cost, _capacity) = TokenBucket.CostAndCapacity(options.PacketsPerSecond, options.Burst);
        _idleTimeout = options.IdleTimeout;
        _maxSources = options.MaxSources;
    }

    /// <summary>Number of sources currently tracked.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
                return _sources.Count;
        }
    }

    /// <summary>
    /// Whether a packet from <paramref name="source"/> at monotonic time <paramref name="now"/> is within
    /// its source's rate. False also when the table is full and the source is new.
    /// </summary>
    public bool Allow(UdpEndpoint source, TimeSpan now)
    {
        var key = KeyOf(source);
        lock (_lock)
        {
            if (now - _lastSweep >= _idleTimeout)
                SweepLocked(now);

            ref var bucket = ref CollectionsMarshal.GetValueRefOrNullRef(_sources, key);
            if (!Unsafe.IsNullRef(ref bucket))
                return bucket.TryTake(now, _cost, _capacity);

            if (_sources.Count >= _maxSources)
                return false;
            var fresh = TokenBucketState.Full(now, _capacity);
            var allowed = fresh.TryTake(now, _cost, _capacity);
            _sources.Add(key, fresh);
            return allowed;
        }
    }

    /// <summary>Forgets sources idle for longer than the timeout.</summary>
    public void Sweep(TimeSpan now)
    {
        lock (_lock)
            SweepLocked(now);
    }

    public void Clear()
    {
        lock (_lock)
            _sources.Clear();
    }

    /// <summary>IPv4 stays IPv4-mapped (so it never meets an IPv6 key); IPv6 keeps its /64.</summary>
    internal static UInt128 KeyOf(UdpEndpoint source) =>
        source.IsIPv4 ? source.Address : source.Address & IPv6Slash64;

    private void SweepLocked(TimeSpan now)
    {
        _lastSweep = now;
        // Removing while enumerating is allowed for Dictionary since .NET Core 3.0.
        foreach (var (key, bucket) in _sources)
        {
            if (now - bucket.LastActivity > _idleTimeout)
                _sources.Remove(key);
        }
    }
}
