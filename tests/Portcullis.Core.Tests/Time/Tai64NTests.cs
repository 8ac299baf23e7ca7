using System.Buffers.Binary;
using Microsoft.Extensions.Time.Testing;
using Portcullis.Core.Time;

namespace Portcullis.Core.Tests.Time;

public sealed class Tai64NTests
{
    private static byte[] Write(DateTime utc)
    {
        var buffer = new byte[Tai64N.Size];
        Tai64N.Write(utc, buffer);
        return buffer;
    }

    [Fact]
    public void Write_UnixEpoch_IsLabel2Pow62Plus10()
    {
        Assert.Equal(Convert.FromHexString("400000000000000A00000000"), Write(DateTime.UnixEpoch));
    }

    [Fact]
    public void Write_KnownInstant_EncodesSecondsBigEndian()
    {
        // 2020-01-01T00:00:00Z is Unix 1577836800 = 0x5E0BE100.
        var utc = new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        Assert.Equal(Convert.FromHexString("400000005E0BE10A00000000"), Write(utc));
    }

    [Fact]
    public void Write_Nanoseconds_WhitenedDownToMultipleOf2Pow24()
    {
        // 0.999999900 s: 999 999 900 rounded down to a multiple of 16 777 216 is 989 855 744 = 0x3B000000.
        var utc = DateTime.UnixEpoch.AddTicks(TimeSpan.TicksPerSecond - 1);
        var bytes = Write(utc);
        Assert.Equal(0x3B000000u, BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(8)));
        Assert.Equal((1UL << 62) + 10, BinaryPrimitives.ReadUInt64BigEndian(bytes));
    }

    [Fact]
    public void Write_WithinOneWhiteningStep_GivesEqualTimestamps()
    {
        var first = Write(DateTime.UnixEpoch.AddMilliseconds(1));
        var second = Write(DateTime.UnixEpoch.AddMilliseconds(16));
        Assert.Equal(first, second);
        Assert.False(Tai64N.IsAfter(second, first));
    }

    [Fact]
    public void Write_LocalTime_ConvertedToUtc()
    {
        var utc = new DateTime(2024, 5, 6, 7, 8, 9, DateTimeKind.Utc);
        Assert.Equal(Write(utc), Write(utc.ToLocalTime()));
    }

    [Fact]
    public void Write_ShortDestination_Throws()
    {
        Assert.Throws<ArgumentException>(() => Tai64N.Write(DateTime.UtcNow, new byte[11]));
    }

    [Fact]
    public void WriteNow_UsesTimeProvider()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var buffer = new byte[Tai64N.Size];
        Tai64N.WriteNow(time, buffer);
        Assert.Equal(Convert.FromHexString("400000005E0BE10A00000000"), buffer);
    }

    [Fact]
    public void IsAfter_LaterSecondOrLaterNanoseconds_True()
    {
        var t0 = Write(DateTime.UnixEpoch.AddSeconds(100));
        var t0Plus20ms = Write(DateTime.UnixEpoch.AddSeconds(100).AddMilliseconds(20));
        var t1 = Write(DateTime.UnixEpoch.AddSeconds(101));

        Assert.True(Tai64N.IsAfter(t0Plus20ms, t0));
        Assert.True(Tai64N.IsAfter(t1, t0Plus20ms));
        Assert.False(Tai64N.IsAfter(t0, t1));
    }

    [Fact]
    public void IsAfter_Equal_False()
    {
        var t = Write(DateTime.UnixEpoch.AddSeconds(5));
        Assert.False(Tai64N.IsAfter(t, t.ToArray()));
    }

    [Fact]
    public void IsAfter_SecondsOutweighNanoseconds()
    {
        var earlierSecondLateNanos = Write(DateTime.UnixEpoch.AddSeconds(10).AddMilliseconds(999));
        var laterSecondZeroNanos = Write(DateTime.UnixEpoch.AddSeconds(11));
        Assert.True(Tai64N.IsAfter(laterSecondZeroNanos, earlierSecondLateNanos));
    }

    [Fact]
    public void Write_BeforeEpoch_KeepsOrderAndNanosecondsInRange()
    {
        var before = Write(DateTime.UnixEpoch.AddSeconds(-1.5));
        var epoch = Write(DateTime.UnixEpoch);
        Assert.True(Tai64N.IsAfter(epoch, before));
        Assert.Equal((1UL << 62) + 10 - 2, BinaryPrimitives.ReadUInt64BigEndian(before));
        Assert.True(BinaryPrimitives.ReadUInt32BigEndian(before.AsSpan(8)) < 1_000_000_000);
    }

    [Fact]
    public void IsAfter_WrongLength_Throws()
    {
        Assert.Throws<ArgumentException>(() => Tai64N.IsAfter(new byte[11], new byte[12]));
    }
}
