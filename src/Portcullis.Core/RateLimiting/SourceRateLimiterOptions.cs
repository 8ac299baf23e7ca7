namespace Portcullis.Core.RateLimiting;

/// <summary>Settings of a <see cref="SourceRateLimiter"/>; the defaults are WireGuard's handshake limits.</summary>
public sealed record SourceRateLimiterOptions
{
    /// <summary>Sustained packets per second per source. Defaults to 20.</summary>
    public int PacketsPerSecond { get; init; } = 20;

    /// <summary>Packets a quiet source may send at once. Defaults to 5.</summary>
    public int Burst { get; init; } = 5;

    /// <summary>
    /// A source unseen this long is forgotten (its bucket would be full again by then anyway).
    /// Defaults to 1 second.
    /// </summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Most sources tracked at once. Past it, packets from new sources are refused until idle ones
    /// expire: a flood of spoofed addresses then costs bounded memory, at the price of refusing new
    /// legitimate sources for up to <see cref="IdleTimeout"/>. Defaults to 65 536.
    /// </summary>
    public int MaxSources { get; init; } = 65_536;
}
