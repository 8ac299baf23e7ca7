using System.Buffers.Binary;

namespace Portcullis.Core.Time;

/// <summary>
/// TAI64N timestamps as the handshake initiation carries them: 8 bytes big-endian seconds labelled
/// 2^62 + 10 + Unix seconds (the label wireguard-go and the kernel use), then 4 bytes big-endian
/// nanoseconds. Responders accept an initiation only if its timestamp is strictly later than the last
/// one, which is what makes a captured initiation useless to replay.
/// </summary>
public static class Tai64N
{
    public const int Size = 12;

    private const ulong Base = (1UL << 62) + 10;

    // Nanoseconds are rounded down to a multiple of 2^24 ns (~16.8 ms) so the timestamp does not leak a
    // precise clock reading; initiations are at least 20 ms apart anyway.
    private const uint WhitenerMask = (1u << 24) - 1;

    /// <summary>Writes the whitened timestamp of <paramref name="utc"/> into 12 bytes.</summary>
    public static void Write(DateTime utc, Span<byte> destination12)
    {
        if (destination12.Length < Size)
            throw new ArgumentException($"A TAI64N timestamp needs {Size} bytes.", nameof(destination12));
        if (utc.Kind == DateTimeKind.Local)
            utc = utc.ToUniversalTime();

        var sinceEpoch = utc.Ticks - DateTime.UnixEpoch.Ticks;
        var seconds = Math.DivRem(sinceEpoch, TimeSpan.TicksPerSecond, out var remainderTicks);
        if (remainderTicks < 0)
        {
            // Floor for instants before 1970 so the nanosecond field stays in [0, 1e9).
            seconds--;
            remainderTicks += TimeSpan.TicksPerSecond;
        }
        var nanoseconds = (uint)(remainderTicks * TimeSpan.NanosecondsPerTick) & ~WhitenerMask;

        BinaryPrimitives.WriteUInt64BigEndian(destination12, Base + (ulong)seconds);
        BinaryPrimitives.WriteUInt32BigEndian(destination12[8..], nanoseconds);
    }

    /// <summary>Writes the timestamp of <paramref name="time"/>'s current UTC time.</summary>
    public static void WriteNow(TimeProvider time, Span<byte> destination12)
    {
        ArgumentNullException.ThrowIfNull(time);
        Write(time.GetUtcNow().UtcDateTime, destination12);
    }

    /// <summary>True when <paramref name="a12"/> is strictly later than <paramref name="b12"/>.</summary>
    public static bool IsAfter(ReadOnlySpan<byte> a12, ReadOnlySpan<byte> b12)
    {
        if (a12.Length != Size || b12.Length != Size)
            throw new ArgumentException($"TAI64N timestamps are {Size} bytes.");
        // Big-endian fields make byte order equal time order.
        return a12.SequenceCompareTo(b12) > 0;
    }
}
