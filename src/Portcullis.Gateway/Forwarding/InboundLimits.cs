namespace Portcullis.Gateway.Forwarding;

/// <summary>
/// Limits on new inbound connections through each forward, applied by the kernel: per forward destination (tunnel
/// address . protocol . internal port, as DNAT left the packet), so a scan or a flood aimed at one peer's port cannot
/// exhaust that peer's link or sockets, and one forward's traffic never spends another's allowance. Drops are counted
/// by reason only (<see cref="InboundDropCounts"/>), never by peer or port. Applies to whatever the gateway DNATs to
/// the tunnel: dynamic mappings, static forwards and the "every port" routes of dedicated addresses alike.
/// </summary>
/// <param name="NewPerSecond">New connections (TCP) or flows (UDP) per second per forward, with a burst of as many;
/// the next within the second is dropped. 0 = no limit.</param>
/// <param name="MaxConnections">Tracked connections a forward may have at once; one more is dropped. 0 = no limit.</param>
public sealed record InboundLimits(int NewPerSecond, int MaxConnections)
{
    /// <summary>No limit at all (the default).</summary>
    public static readonly InboundLimits None = new(0, 0);

    /// <summary>Highest value either limit takes: far above any one forward's honest load, well inside nft's range.</summary>
    public const int Max = 1_000_000;

    public void Validate()
    {
        if (NewPerSecond is < 0 or > Max)
            throw new ArgumentException($"NewPerSecond must be 0 (no limit) to {Max}.", nameof(NewPerSecond));
        if (MaxConnections is < 0 or > Max)
            throw new ArgumentException($"MaxConnections must be 0 (no limit) to {Max}.", nameof(MaxConnections));
    }
}

/// <summary>New inbound connections dropped since the table was first installed, by reason.</summary>
/// <param name="Rate">Over <see cref="InboundLimits.NewPerSecond"/>.</param>
/// <param name="Connections">Over <see cref="InboundLimits.MaxConnections"/>.</param>
public readonly record struct InboundDropCounts(long Rate, long Connections);
