using System.Net;
using Portcullis.Core.Io;
using Portcullis.Core.RateLimiting;

namespace Portcullis.Core.Tests.RateLimiting;

public sealed class SourceRateLimiterTests
{
    private static readonly TimeSpan Start = TimeSpan.FromSeconds(50);

    private static UdpEndpoint Endpoint(string address, ushort port = 51820) =>
        UdpEndpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Parse(address), port));

    private static int AllowedOf(SourceRateLimiter limiter, UdpEndpoint source, TimeSpan now, int attempts)
    {
        var allowed = 0;
        for (var i = 0; i < attempts; i++)
        {
            if (limiter.Allow(source, now))
                allowed++;
        }
        return allowed;
    }

    [Fact]
    public void Allow_Defaults_BurstOfFiveThenTwentyPerSecond()
    {
        var limiter = new SourceRateLimiter();
        var source = Endpoint("192.0.2.1");

        Assert.Equal(5, AllowedOf(limiter, source, Start, 20));

        var allowed = 0;
        for (var ms = 10; ms <= 1000; ms += 10)
            allowed += AllowedOf(limiter, source, Start + TimeSpan.FromMilliseconds(ms), 1);
        Assert.Equal(20, allowed);
    }

    [Fact]
    public void Allow_DifferentIPv4Sources_HaveSeparateBuckets()
    {
        var limiter = new SourceRateLimiter();
        Assert.Equal(5, AllowedOf(limiter, Endpoint("192.0.2.1"), Start, 10));
        Assert.Equal(5, AllowedOf(limiter, Endpoint("192.0.2.2"), Start, 10));
    }

    [Fact]
    public void Allow_SameAddressOtherPort_SharesBucket()
    {
        var limiter = new SourceRateLimiter();
        Assert.Equal(5, AllowedOf(limiter, Endpoint("192.0.2.1", 1000), Start, 10));
        Assert.False(limiter.Allow(Endpoint("192.0.2.1", 2000), Start));
    }

    [Fact]
    public void Allow_IPv6SameSlash64_SharesBucket()
    {
        var limiter = new SourceRateLimiter();
        Assert.Equal(5, AllowedOf(limiter, Endpoint("2001:db8:1:2::1"), Start, 10));
        Assert.False(limiter.Allow(Endpoint("2001:db8:1:2:ffff::9"), Start));
        Assert.True(limiter.Allow(Endpoint("2001:db8:1:3::1"), Start));
    }

    [Fact]
    public void Allow_IPv4AndMappedLookalikeIPv6_AreDifferentKeys()
    {
        // ::c000:201 is not 192.0.2.1: only the IPv4-mapped form is.
        Assert.NotEqual(SourceRateLimiter.KeyOf(Endpoint("192.0.2.1")), SourceRateLimiter.KeyOf(Endpoint("::c000:201")));
        Assert.Equal(SourceRateLimiter.KeyOf(Endpoint("192.0.2.1")), SourceRateLimiter.KeyOf(Endpoint("::ffff:192.0.2.1")));
    }

    [Fact]
    public void Allow_TableFull_NewSourceTakesTheLeastRecentlyActiveSlot()
    {
        // Eight slots, all in one probe window: every source competes with every other.
        var limiter = new SourceRateLimiter(new SourceRateLimiterOptions { MaxSources = SourceRateLimiter.ProbeWindow });
        for (var i = 0; i < 8; i++)
            Assert.Equal(5, AllowedOf(limiter, Endpoint($"10.0.0.{i}"), Start + TimeSpan.FromTicks(i), 10));
        var later = Start + TimeSpan.FromMilliseconds(1);

        // A new source is served though the table is full; it took the slot of 10.0.0.0, the stalest.
        Assert.Equal(5, AllowedOf(limiter, Endpoint("192.0.2.1"), later, 10));
        Assert.Equal(8, limiter.Count);
        // 10.0.0.0 comes back with a fresh bucket (taking 10.0.0.1's slot); 10.0.0.2 kept its slot and stays drained.
        Assert.Equal(5, AllowedOf(limiter, Endpoint("10.0.0.0"), later, 10));
        Assert.False(limiter.Allow(Endpoint("10.0.0.2"), later));
    }

    [Fact]
    public void Allow_FloodOfNewSources_NeverLocksOutAnotherSource()
    {
        var limiter = new SourceRateLimiter(new SourceRateLimiterOptions { MaxSources = 256 });
        for (var i = 0; i < 100_000; i++)
            limiter.Allow(Endpoint($"10.{i >> 16}.{(i >> 8) & 255}.{i & 255}"), Start);

        Assert.Equal(256, limiter.Capacity);
        Assert.Equal(256, limiter.Count);
        Assert.True(limiter.Allow(Endpoint("192.0.2.1"), Start));
    }

    [Fact]
    public void Allow_ExistingSource_DoesNotAllocate()
    {
        var limiter = new SourceRateLimiter();
        var source = Endpoint("192.0.2.1");
        limiter.Allow(source, Start);
        limiter.Allow(source, Start + TimeSpan.FromMilliseconds(1));

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
            limiter.Allow(source, Start + TimeSpan.FromMilliseconds(2 + i));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
    }

    [Fact]
    public async Task Allow_ConcurrentCallers_NeverExceedBurst()
    {
        var limiter = new SourceRateLimiter();
        var source = Endpoint("192.0.2.1");
        var allowed = 0;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 1000; i++)
            {
                if (limiter.Allow(source, Start))
                    Interlocked.Increment(ref allowed);
            }
        })));
        Assert.Equal(5, allowed);
    }

    [Fact]
    public void Constructor_InvalidOptions_Throw()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SourceRateLimiter(new SourceRateLimiterOptions { MaxSources = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SourceRateLimiter(new SourceRateLimiterOptions { PacketsPerSecond = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SourceRateLimiter(new SourceRateLimiterOptions { MaxSources = (1 << 24) + 1 }));
    }
}
