using Portcullis.Gateway.Forwarding;

namespace Portcullis.Gateway.Tests.Forwarding;

public sealed class ExpiringMemoryTests
{
    private static readonly TimeSpan T0 = TimeSpan.FromSeconds(100);

    [Fact]
    public void TryGet_BeforeAndAtExpiry_VisibleThenGone()
    {
        var memory = new ExpiringMemory<string, int>();
        memory.Set("a", 1, T0);

        Assert.True(memory.TryGet("a", T0 - TimeSpan.FromTicks(1), out var value));
        Assert.Equal(1, value);
        Assert.False(memory.TryGet("a", T0, out _));
    }

    [Fact]
    public void Sweep_DropsLapsedKeepsRenewed()
    {
        var memory = new ExpiringMemory<string, int>();
        memory.Set("a", 1, T0);
        memory.Set("b", 2, T0);
        memory.Set("a", 3, T0 * 2);

        memory.Sweep(T0);

        Assert.Equal(1, memory.Count);
        Assert.True(memory.TryGet("a", T0, out var value));
        Assert.Equal(3, value);
    }

    [Fact]
    public void Remove_ThenSetAgain_OldQueueItemDoesNotDropTheNewEntry()
    {
        var memory = new ExpiringMemory<string, int>();
        memory.Set("a", 1, T0);
        memory.Remove("a");
        memory.Set("a", 2, T0 * 3);

        memory.Sweep(T0 * 2);

        Assert.True(memory.TryGet("a", T0 * 2, out var value));
        Assert.Equal(2, value);
    }
}
