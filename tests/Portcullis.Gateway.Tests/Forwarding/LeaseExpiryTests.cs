using Microsoft.Extensions.Time.Testing;
using Portcullis.Gateway.Forwarding;

namespace Portcullis.Gateway.Tests.Forwarding;

// The expiry clock alone, on a fake clock: it fires at the earliest time it was armed for, and retries pending
// removals one interval after a refusal.
public sealed class LeaseExpiryTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly LeaseExpiry _expiry;
    private int _fired;

    public LeaseExpiryTests() => _expiry = new LeaseExpiry(_time, () => _fired++);

    private TimeSpan Now => _time.GetUtcNow() - _time.Start;

    [Fact]
    public void Arm_LaterTimeDoesNotDelayAnEarlierOne()
    {
        _expiry.Arm(TimeSpan.FromSeconds(10), Now);
        _expiry.Arm(TimeSpan.FromSeconds(30), Now);

        _time.Advance(TimeSpan.FromSeconds(9));
        Assert.Equal(0, _fired);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, _fired);
        Assert.Equal(TimeSpan.FromSeconds(10), _expiry.Due);
    }

    [Fact]
    public void Fired_ThenArm_LaterTimeArms()
    {
        _expiry.Arm(TimeSpan.FromSeconds(10), Now);
        _time.Advance(TimeSpan.FromSeconds(10));
        _expiry.Fired();

        _expiry.Arm(TimeSpan.FromSeconds(30), Now);
        _time.Advance(TimeSpan.FromSeconds(20));

        Assert.Equal(2, _fired);
    }

    [Fact]
    public void RetryLater_DueOneIntervalOnAndFires()
    {
        _expiry.RetryLater(Now);

        Assert.False(_expiry.RetryDue(Now));
        _time.Advance(LeaseExpiry.RemovalRetryInterval);
        Assert.Equal(1, _fired);
        Assert.True(_expiry.RetryDue(Now));
        _expiry.Retried(Now);
        Assert.False(_expiry.RetryDue(Now));
    }

    [Fact]
    public void Arm_PastTime_FiresAfterTheMinimumDelayNotInsideArm()
    {
        _time.Advance(TimeSpan.FromSeconds(5));

        _expiry.Arm(TimeSpan.FromSeconds(1), Now);

        Assert.Equal(0, _fired);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(1, _fired);
    }
}
