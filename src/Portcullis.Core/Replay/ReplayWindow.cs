namespace Portcullis.Core.Replay;

/// <summary>
/// Anti-replay window for transport counters: RFC 6479 as the Linux kernel and wireguard-go use it, a
/// ring of 128 64-bit words (8192 bits) of which one word is always being recycled, so 8128 counters
/// behind the newest are tracked. Not thread-safe: the caller serializes per keypair.
/// </summary>
/// <remarks>
/// Receive flow: <see cref="IsPlausible"/> before decryption (cheap, changes nothing, so a forged packet
/// cannot move the window), then <see cref="Validate"/> only after the AEAD tag has verified.
/// </remarks>
public sealed class ReplayWindow
{
    /// <summary>Counters this far behind the newest one are still accepted once.</summary>
    public const ulong WindowSize = TotalBits - BitsPerWord;

    private const int TotalBits = 8192;
    private const int BitsPerWord = 64;
    private const int WordShift = 6;
    private const int Words = TotalBits / BitsPerWord;

    private readonly ulong[] _ring = new ulong[Words];
    private ulong _newest;

    /// <summary>
    /// Marks <paramref name="counter"/> as seen. True if it is new; false if it was seen before, is too
    /// far behind the newest counter, or is at or above <paramref name="limit"/>.
    /// </summary>
    public bool Validate(ulong counter, ulong limit)
    {
        if (counter >= limit)
            return false;

        var word = counter >> WordShift;
        if (counter > _newest)
        {
            // Slide forward: clear the words the window moves onto (at most the whole ring).
            var current = _newest >> WordShift;
            var advance = Math.Min(word - current, Words);
            for (ulong i = 1; i <= advance; i++)
                _ring[(int)((current + i) % Words)] = 0;
            _newest = counter;
        }
        else if (_newest - counter > WindowSize)
        {
            return false;
        }

        ref var slot = ref _ring[(int)(word % Words)];
        var bit = 1UL << (int)(counter & (BitsPerWord - 1));
        var old = slot;
        slot = old | bit;
        return (old & bit) == 0;
    }

    /// <summary>
    /// Whether <paramref name="counter"/> could still be accepted by <see cref="Validate"/>: below the
    /// limit, not too old, and not yet seen. Changes nothing.
    /// </summary>
    public bool IsPlausible(ulong counter, ulong limit)
    {
        if (counter >= limit)
            return false;
        if (counter > _newest)
            return true;
        if (_newest - counter > WindowSize)
            return false;
        var bit = 1UL << (int)(counter & (BitsPerWord - 1));
        return (_ring[(int)((counter >> WordShift) % Words)] & bit) == 0;
    }

    /// <summary>Forgets every counter, as for a new keypair.</summary>
    public void Reset()
    {
        _newest = 0;
        Array.Clear(_ring);
    }
}
