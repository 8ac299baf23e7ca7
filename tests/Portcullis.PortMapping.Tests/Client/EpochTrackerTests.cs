using Portcullis.PortMapping.ClientSide;

namespace Portcullis.PortMapping.Tests.ClientSide;

// RFC 6887 §8.5: lost state when the epoch goes back more than 1 s, or drifts from the client's clock by more than
// 2 s + 1/16 of the interval.
public sealed class EpochTrackerTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(1000u, 0, 1000u, false)]        // nothing passed
    [InlineData(1000u, 1800, 2800u, false)]     // both clocks agree
    [InlineData(1000u, 1800, 2700u, false)]     // 100 s slow over 1800 s: within 1/16 + 2
    [InlineData(1000u, 1800, 2600u, true)]      // 200 s slow: more than 1800/16 + 2
    [InlineData(1000u, 1800, 3000u, true)]      // server time ran ahead too far
    [InlineData(1000u, 0, 999u, false)]         // one second back: tolerated
    [InlineData(1000u, 10, 5u, true)]           // back to near zero: a restart that lost state
    public void Observe_SecondAnswer_LostStateAsRfc6887Says(uint first, int elapsed, uint second, bool lost)
    {
        var tracker = new EpochTracker();
        Assert.False(tracker.Observe(first, T0));

        Assert.Equal(lost, tracker.Observe(second, T0.AddSeconds(elapsed)));
    }

    [Fact]
    public void Reset_ForgetsHistory_NextObservationNeverLost()
    {
        var tracker = new EpochTracker();
        tracker.Observe(5000, T0);
        tracker.Reset();

        Assert.False(tracker.Observe(3, T0.AddSeconds(1)));
    }
}
