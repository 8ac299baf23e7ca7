using Portcullis.Core.Replay;

namespace Portcullis.Core.Tests.Replay;

/// <summary>The kernel's replay selftest, as wireguard-go's replay_test.go ports it.</summary>
public sealed class ReplayWindowTests
{
    private const ulong RejectAfterMessages = ulong.MaxValue - (1UL << 4); // 2^64 - 2^4 - 1, as the selftest
    private const ulong WindowSize = 8128;
    private const ulong TLim = WindowSize + 1;

    private readonly ReplayWindow _window = new();

    public static TheoryData<int, ulong, bool> KernelCases() => new()
    {
        { 1, 0, true },
        { 2, 1, true },
        { 3, 1, false },
        { 4, 9, true },
        { 5, 8, true },
        { 6, 7, true },
        { 7, 7, false },
        { 8, TLim, true },
        { 9, TLim - 1, true },
        { 10, TLim - 1, false },
        { 11, TLim - 2, true },
        { 12, 2, true },
        { 13, 2, false },
        { 14, TLim + 16, true },
        { 15, 3, false },
        { 16, TLim + 16, false },
        { 17, TLim * 4, true },
        { 18, (TLim * 4) - (TLim - 1), true },
        { 19, 10, false },
        { 20, (TLim * 4) - TLim, false },
        { 21, (TLim * 4) - (TLim + 1), false },
        { 22, (TLim * 4) - (TLim - 2), true },
        { 23, (TLim * 4) + 1 - TLim, false },
        { 24, 0, false },
        { 25, RejectAfterMessages, false },
        { 26, RejectAfterMessages - 1, true },
        { 27, RejectAfterMessages, false },
        { 28, RejectAfterMessages - 1, false },
        { 29, RejectAfterMessages - 2, true },
        { 30, RejectAfterMessages + 1, false },
        { 31, RejectAfterMessages + 2, false },
        { 32, RejectAfterMessages - 2, false },
        { 33, RejectAfterMessages - 3, true },
        { 34, 0, false },
    };

    [Fact]
    public void Validate_KernelSelftestSequence_MatchesEveryCase()
    {
        // The cases are a sequence over one window: each depends on the ones before it.
        foreach (var row in KernelCases())
        {
            var (number, counter, expected) = ((int)row[0], (ulong)row[1], (bool)row[2]);
            Assert.True(expected == _window.Validate(counter, RejectAfterMessages), $"kernel case {number} (counter {counter})");
        }
    }

    [Fact]
    public void WindowSize_Is8128()
    {
        Assert.Equal(WindowSize, ReplayWindow.WindowSize);
    }

    [Fact]
    public void Validate_Bulk1_AscendingWindowThenZero_ZeroAcceptedOnce()
    {
        for (ulong i = 1; i <= WindowSize; i++)
            Assert.True(_window.Validate(i, RejectAfterMessages), $"counter {i}");
        Assert.True(_window.Validate(0, RejectAfterMessages));
        Assert.False(_window.Validate(0, RejectAfterMessages));
    }

    [Fact]
    public void Validate_Bulk2_AscendingPastWindow_ZeroFallsOut()
    {
        for (ulong i = 2; i <= WindowSize + 1; i++)
            Assert.True(_window.Validate(i, RejectAfterMessages), $"counter {i}");
        Assert.True(_window.Validate(1, RejectAfterMessages));
        Assert.False(_window.Validate(0, RejectAfterMessages));
    }

    [Fact]
    public void Validate_Bulk3_DescendingWholeWindow_AllAccepted()
    {
        for (var i = WindowSize + 1; i > 0; i--)
            Assert.True(_window.Validate(i, RejectAfterMessages), $"counter {i}");
    }

    [Fact]
    public void Validate_Bulk4_DescendingFromPastWindow_ZeroTooOld()
    {
        for (var i = WindowSize + 2; i > 1; i--)
            Assert.True(_window.Validate(i, RejectAfterMessages), $"counter {i}");
        Assert.False(_window.Validate(0, RejectAfterMessages));
    }

    [Fact]
    public void Validate_Bulk5_DescendingThenNext_ZeroTooOld()
    {
        for (var i = WindowSize; i > 0; i--)
            Assert.True(_window.Validate(i, RejectAfterMessages), $"counter {i}");
        Assert.True(_window.Validate(WindowSize + 1, RejectAfterMessages));
        Assert.False(_window.Validate(0, RejectAfterMessages));
    }

    [Fact]
    public void Validate_Bulk6_DescendingThenZeroThenNext_AllAccepted()
    {
        for (var i = WindowSize; i > 0; i--)
            Assert.True(_window.Validate(i, RejectAfterMessages), $"counter {i}");
        Assert.True(_window.Validate(0, RejectAfterMessages));
        Assert.True(_window.Validate(WindowSize + 1, RejectAfterMessages));
    }

    [Fact]
    public void IsPlausible_AgreesWithValidateAndChangesNothing()
    {
        // Replays the kernel sequence: before each Validate, IsPlausible (called twice, to show it does
        // not mark) must predict its answer.
        foreach (var row in KernelCases())
        {
            var (number, counter, expected) = ((int)row[0], (ulong)row[1], (bool)row[2]);
            Assert.True(expected == _window.IsPlausible(counter, RejectAfterMessages), $"plausible, case {number}");
            Assert.True(expected == _window.IsPlausible(counter, RejectAfterMessages), $"plausible again, case {number}");
            Assert.True(expected == _window.Validate(counter, RejectAfterMessages), $"validate, case {number}");
        }
    }

    [Fact]
    public void IsPlausible_FarAheadCounter_DoesNotMoveWindow()
    {
        Assert.True(_window.Validate(5, RejectAfterMessages));
        Assert.True(_window.IsPlausible(1_000_000, RejectAfterMessages));
        // Had the window moved to 1 000 000, counter 6 would now be too old.
        Assert.True(_window.Validate(6, RejectAfterMessages));
    }

    [Fact]
    public void Validate_AtOrAboveLimit_Rejected()
    {
        Assert.False(_window.Validate(100, 100));
        Assert.False(_window.IsPlausible(100, 100));
        Assert.True(_window.Validate(99, 100));
    }

    [Fact]
    public void Reset_ForgetsSeenCounters()
    {
        Assert.True(_window.Validate(0, RejectAfterMessages));
        Assert.True(_window.Validate(50_000, RejectAfterMessages));

        _window.Reset();

        Assert.True(_window.Validate(0, RejectAfterMessages));
        Assert.True(_window.Validate(1, RejectAfterMessages));
    }
}
