using System.Numerics;
using Portcullis.Core.Io;

namespace Portcullis.Core.RateLimiting;

/// <summary>
/// Per-source token buckets for handshake messages, as the kernel's and wireguard-go's ratelimiter:
/// keyed by the IPv4 address or the IPv6 /64 (one host usually owns a whole /64), ports ignored.
/// Thread-safe; allocates nothing after construction.
/// </summary>
/// <remarks>
/// The table has a fixed number of slots (open addressing, a probe window of <see cref="ProbeWindow"/> slots from
/// the key's hash) and never refuses a source for want of room: a new source whose window is full takes the slot of
/// the least recently active source in it, which comes back later with a full bucket. So a flood from many — even
/// spoofed — addresses costs bounded memory and cannot lock out a source it has never seen (a table that refused new
/// sources when full would do exactly that), while a source that sends more often than its window turns over keeps
/// its bucket (until the table is full nothing is evicted at all). The hash is seeded per process, so nobody can aim
/// at another source's window.
/// </remarks>
public sealed class SourceRateLimiter
{
    /// <summary>Slots probed per key; the eviction candidates when all of them are taken.</summary>
    public const int ProbeWindow = 8;

    private static readonly UInt128 IPv6Slash64 = UInt128.MaxValue << 64;

    private readonly Lock _lock = new();
    private readonly Slot[] _slots;
    private readonly int _mask;
    private readonly long _cost;
    private readonly long _capacity;
    private int _count;

    public SourceRateLimiter()
        : this(new SourceRateLimiterOptions())
    {
    }

    public SourceRateLimiter(SourceRateLimiterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxSources, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.MaxSources, 1 << 24);
        (_cost, _capacity) = TokenBucket.CostAndCapacity(options.PacketsPerSecond, options.Burst);
        var size = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(options.MaxSources, ProbeWindow));
        _slots = new Slot[size];
        _mask = size - 1;
    }

    /// <summary>Sources currently holding a slot.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
                return _count;
        }
    }

    /// <summary>Slots in the table: <see cref="SourceRateLimiterOptions.MaxSources"/> rounded up to a power of two.</summary>
    public int Capacity => _slots.Length;

    /// <summary>Whether a packet from <paramref name="source"/> at monotonic time <paramref name="now"/> is within its source's rate.</summary>
    public bool Allow(UdpEndpoint source, TimeSpan now)
    {
        var key = KeyOf(source);
        var start = HashCode.Combine(key) & _mask;
        lock (_lock)
        {
            var free = -1;
            var stalest = -1;
            for (var i = 0; i < ProbeWindow; i++)
            {
                var index = (start + i) & _mask;
                ref var slot = ref _slots[index];
                if (!slot.Used)
                {
                    if (free < 0)
                        free = index;
                    continue;
                }
                if (slot.Key == key)
                    return slot.Bucket.TryTake(now, _cost, _capacity);
                if (stalest < 0 || slot.Bucket.LastActivity < _slots[stalest].Bucket.LastActivity)
                    stalest = index;
            }

            var target = free >= 0 ? free : stalest;
            if (free >= 0)
                _count++;
            ref var fresh = ref _slots[target];
            fresh.Key = key;
            fresh.Used = true;
            fresh.Bucket = TokenBucketState.Full(now, _capacity);
            return fresh.Bucket.TryTake(now, _cost, _capacity);
        }
    }

    public void Clear()
    {
        lock (_lock)
        {
            Array.Clear(_slots);
            _count = 0;
        }
    }

    /// <summary>IPv4 stays IPv4-mapped (so it never meets an IPv6 key); IPv6 keeps its /64.</summary>
    internal static UInt128 KeyOf(UdpEndpoint source) =>
        source.IsIPv4 ? source.Address : source.Address & IPv6Slash64;

    private struct Slot
    {
        public UInt128 Key;
        public TokenBucketState Bucket;
        public bool Used;
    }
}
