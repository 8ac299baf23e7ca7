namespace Portcullis.Core.RateLimiting;

/// <summary>Settings of a <see cref="SourceRateLimiter"/>; the defaults are WireGuard's handshake limits.</summary>
public sealed record SourceRateLimiterOptions
{
    /// <summary>Sustained packets per second per source. Defaults to 20.</summary>
    public int PacketsPerSecond { get; init; } = 20;

    /// <summary>Packets a quiet source may send at once. Defaults to 5.</summary>
    public int Burst { get; init; } = 5;

    /// <summary>
    /// Slots in the table (rounded up to a power of two, at most 2^24): the sources tracked at once. Past it, a new
    /// source takes the slot of the least recently active one near its hash, so memory stays bounded under a flood of
    /// spoofed addresses and no source is ever refused for want of room. Defaults to 16 384 (about 640 KB).
    /// </summary>
    public int MaxSources { get; init; } = 16_384;
}
