namespace Portcullis.Gateway.Health;

/// <summary>How ready a gateway is. Ordered: a worse state compares greater.</summary>
public enum HealthState
{
    /// <summary>Everything the gateway needs answers.</summary>
    Ok,

    /// <summary>Serving, with something missing that it can live without for a while (a fleet's database away).</summary>
    Degraded,

    /// <summary>Not serving as it should: the device, the kernel table or its only store is gone.</summary>
    Failing,
}

/// <summary>
/// What /readyz answers: the state and, unless ok, one reason code (<see cref="HealthReasons"/>). Nothing else, so an
/// unauthenticated probe learns no more than whether to send traffic here.
/// </summary>
public readonly record struct HealthReport(HealthState State, string? Reason)
{
    public static HealthReport Ok { get; } = new(HealthState.Ok, null);

    public static HealthReport Degraded(string reason) => new(HealthState.Degraded, reason);

    public static HealthReport Failing(string reason) => new(HealthState.Failing, reason);

    /// <summary>The worse of the two; the first one's reason when they are equally bad.</summary>
    public HealthReport Worst(HealthReport other) => other.State > State ? other : this;

    /// <summary>"ok", "degraded" or "failing", as the endpoints write it.</summary>
    public string StateName => State switch
    {
        HealthState.Ok => "ok",
        HealthState.Degraded => "degraded",
        _ => "failing",
    };
}

/// <summary>The reason codes /readyz gives; stable, for alert rules.</summary>
public static class HealthReasons
{
    /// <summary>The WireGuard interface is missing or down.</summary>
    public const string DeviceDown = "device_down";

    /// <summary>The nftables table (or its prerouting chain) is not in the kernel: nothing is forwarded or masqueraded.</summary>
    public const string TableMissing = "table_missing";

    /// <summary>The store did not answer a read in time, or failed it.</summary>
    public const string StoreUnreachable = "store_unreachable";
}

/// <summary>Answers /readyz. Implementations are thread-safe and bounded in time.</summary>
public interface IGatewayReadiness
{
    Task<HealthReport> CheckAsync(CancellationToken cancellationToken);
}
