using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Portcullis.Gateway.Health;

namespace Portcullis.Gateway.Admin.Http;

/// <summary>
/// /healthz (the process answers) and /readyz (the gateway serves: <see cref="IGatewayReadiness"/>), without a
/// token, for load balancers, systemd and Kubernetes-style probes. The body is the state and a reason code only:
/// {"status":"ok"}, {"status":"degraded","reason":"store_unreachable"}, {"status":"failing","reason":"device_down"};
/// failing is a 503, so a probe that reads only the status code still gets it right.
/// </summary>
internal static class HealthEndpoints
{
    public const string Live = "/healthz";
    public const string Ready = "/readyz";

    public static void Map(IEndpointRouteBuilder app, IGatewayReadiness? readiness)
    {
        app.MapGet(Live, () => Write(HealthReport.Ok)).WithName("Healthz").WithTags("health");
        app.MapGet(Ready, async (CancellationToken cancellationToken) =>
        {
            var report = readiness is null ? HealthReport.Ok : await readiness.CheckAsync(cancellationToken).ConfigureAwait(false);
            return Write(report);
        }).WithName("Readyz").WithTags("health");
    }

    private static Microsoft.AspNetCore.Http.HttpResults.JsonHttpResult<HealthModel> Write(HealthReport report)
    {
        var status = report.State == HealthState.Failing ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK;
        var body = new HealthModel(report.StateName, report.Reason);
        return TypedResults.Json(body, AdminJson.Server, statusCode: status);
    }
}

/// <summary>The body of /healthz and /readyz; reason is null when ok.</summary>
internal sealed record HealthModel(string Status, string? Reason);
