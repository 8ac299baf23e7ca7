using Microsoft.Extensions.Time.Testing;

namespace Portcullis.Client.Tests.PortForwarding;

/// <summary>
/// Virtual time (a <see cref="FakeTimeProvider"/>) that knows whether anything is waiting on it. The keeper computes
/// its next wait from the clock and then starts the timer: a jump of the clock in between (the test advancing while
/// the keeper is still busy with an answer) would start that timer a whole jump late, and the keeper would sleep
/// through the test. <see cref="AdvanceAsync"/> therefore moves the clock only once a timer is armed, i.e. the keeper
/// has parked.
/// </summary>
internal sealed class ParkingClock(DateTimeOffset start) : TimeProvider
{
    private readonly FakeTimeProvider _fake = new(start);
    private int _armed;

    /// <summary>Timers started and neither fired nor disposed.</summary>
    public int Armed => Volatile.Read(ref _armed);

    public override DateTimeOffset GetUtcNow() => _fake.GetUtcNow();

    public override TimeZoneInfo LocalTimeZone => _fake.LocalTimeZone;

    public override long TimestampFrequency => _fake.TimestampFrequency;

    public override long GetTimestamp() => _fake.GetTimestamp();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ArmedTimer(this);
        timer.Inner = _fake.CreateTimer(s =>
        {
            if (period == Timeout.InfiniteTimeSpan)
                timer.Disarm();
            callback(s);
        }, state, dueTime, period);
        if (dueTime != Timeout.InfiniteTimeSpan)
            timer.Arm();
        return timer;
    }

    /// <summary>Waits (real time, bounded) until something waits on the clock, then moves it by <paramref name="by"/>.</summary>
    public async Task AdvanceAsync(TimeSpan by)
    {
        await KeeperRig.Eventually(() => Armed > 0, "the keeper waiting on its clock");
        _fake.Advance(by);
    }

    private sealed class ArmedTimer(ParkingClock clock) : ITimer
    {
        private int _state; // 0 idle, 1 armed, 2 done

        public ITimer Inner { get; set; } = null!;

        public void Arm()
        {
            if (Interlocked.CompareExchange(ref _state, 1, 0) == 0)
                Interlocked.Increment(ref clock._armed);
        }

        public void Disarm()
        {
            if (Interlocked.Exchange(ref _state, 2) == 1)
                Interlocked.Decrement(ref clock._armed);
        }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            if (dueTime == Timeout.InfiniteTimeSpan)
                Disarm();
            else
                Arm();
            return Inner.Change(dueTime, period);
        }

        public void Dispose()
        {
            Disarm();
            Inner.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            Disarm();
            return Inner.DisposeAsync();
        }
    }
}
