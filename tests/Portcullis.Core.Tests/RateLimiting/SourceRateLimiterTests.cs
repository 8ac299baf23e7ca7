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
    public void Allow_IdleSources_AreSweptAmortized()
    {
        var limiter = new SourceRateLimiter();
        for (var i = 0; i < 100; i++)
            limiter.Allow(Endpoint($"10.0.{i}.1"), Start);
        Assert.Equal(100, limiter.Count);

        // Two seconds later one packet from a new source triggers the sweep of all the idle ones.
        limiter.Allow(Endpoint("192.0.2.1"), Start + TimeSpan.FromSeconds(2));
        Assert.Equal(1, limiter.Count);
    }

    [Fact]
    public void Sweep_KeepsRecentlyActiveSources()
    {
        var limiter = new SourceRateLimiter();
        limiter.Allow(Endpoint("10.0.0.1"), Start);
        limiter.Allow(Endpoint("10.0.0.2"), Start + TimeSpan.FromMilliseconds(1500));

        limiter.Sweep(Start + TimeSpan.FromMilliseconds(2000));

        Assert.Equal(1, limiter.Count);
    }

    [Fact]
    public void Allow_TableFull_RefusesNewSourcesButServesKnownOnes()
    {
        var limiter = new SourceRateLimiter(new SourceRateLimiterOptions { MaxSources = 3 });
        Assert.True(limiter.Allow(Endpoint("10.0.0.1"), Start));
        Assert.True(limiter.Allow(Endpoint("10.0.0.2"), Start));
        Assert.True(limiter.Allow(Endpoint("10.0.0.3"), Start));

        Assert.False(limiter.Allow(Endpoint("10.0.0.4"), Start));
        Assert.True(limiter.Allow(Endpoint("10.0.0.1"), Start));
        Assert.Equal(3, limiter.Count);

        // Once the others go idle, room is made for new sources.
        Assert.True(limiter.Allow(Endpoint("10.0.0.4"), Start + TimeSpan.FromSeconds(2)));
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
        Assert.Throws<ArgumentOutOfRangeException>(() => new SourceRateLimiter(new SourceRateLimiterOptions { IdleTimeout = TimeSpan.Zero }));
    }
}
