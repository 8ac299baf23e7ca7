using Portcullis.Core.RateLimiting;

namespace Portcullis.Core.Tests.RateLimiting;

public sealed class TokenBucketTests
{
    private static readonly TimeSpan Start = TimeSpan.FromSeconds(1000);

    private static int TakeAll(TokenBucket bucket, TimeSpan now)
    {
        var taken = 0;
        while (bucket.TryTake(now) && taken < 1000)
            taken++;
        return taken;
    }

    [Fact]
    public void TryTake_FullBucket_AllowsExactlyBurst()
    {
        var bucket = new TokenBucket(ratePerSecond: 20, burst: 5, Start);
        Assert.Equal(5, TakeAll(bucket, Start));
    }

    [Fact]
    public void TryTake_AfterOneInterval_AllowsOneMore()
    {
        var bucket = new TokenBucket(20, 5, Start);
        TakeAll(bucket, Start);

        Assert.False(bucket.TryTake(Start + TimeSpan.FromMilliseconds(49)));
        Assert.True(bucket.TryTake(Start + TimeSpan.FromMilliseconds(50)));
        Assert.False(bucket.TryTake(Start + TimeSpan.FromMilliseconds(50)));
    }

    [Fact]
    public void TryTake_SustainedAtRate_AllowsRatePerSecond()
    {
        var bucket = new TokenBucket(20, 5, Start);
        TakeAll(bucket, Start);

        var allowed = 0;
        for (var ms = 1; ms <= 10_000; ms++)
        {
            if (bucket.TryTake(Start + TimeSpan.FromMilliseconds(ms)))
                allowed++;
        }
        Assert.Equal(200, allowed);
    }

    [Fact]
    public void TryTake_LongIdle_RefillsOnlyToBurst()
    {
        var bucket = new TokenBucket(20, 5, Start);
        TakeAll(bucket, Start);
        Assert.Equal(5, TakeAll(bucket, Start + TimeSpan.FromHours(1)));
    }

    [Fact]
    public void TryTake_ClockStepsBack_EarnsNothing()
    {
        var bucket = new TokenBucket(20, 5, Start);
        TakeAll(bucket, Start);
        Assert.False(bucket.TryTake(Start - TimeSpan.FromSeconds(10)));
        Assert.False(bucket.TryTake(Start));
        Assert.True(bucket.TryTake(Start + TimeSpan.FromMilliseconds(50)));
    }

    [Theory]
    [InlineData(0, 5)]
    [InlineData(-1, 5)]
    [InlineData(20, 0)]
    [InlineData(20_000_000, 5)]
    public void Constructor_InvalidArguments_Throw(int rate, int burst)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new TokenBucket(rate, burst, Start));
    }
}
