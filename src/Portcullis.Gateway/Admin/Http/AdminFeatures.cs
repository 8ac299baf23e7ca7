using Portcullis.Gateway.Health;

namespace Portcullis.Gateway.Admin.Http;

/// <summary>
/// What the admin listener serves besides /api/v1: each part is optional, so tests start the server over only what
/// they test. The gateway host fills every one.
/// </summary>
public sealed record AdminFeatures
{
    /// <summary>Answers /readyz; null: ready whenever the listener answers.</summary>
    public IGatewayReadiness? Readiness { get; init; }

    /// <summary>Serves /metrics (bearer token); null: no /metrics.</summary>
    public Metrics.GatewayMetrics? Metrics { get; init; }

    /// <summary>Runs POST /api/v1/mappings/…/check; null: no such endpoint.</summary>
    public Reachability.ReachabilityChecker? Reachability { get; init; }

    /// <summary>The clock of web console sessions. Defaults to the system clock.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;
}
