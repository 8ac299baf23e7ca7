using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Portcullis.Gateway.Metrics;

namespace Portcullis.Gateway.Admin.Http;

/// <summary>
/// GET /metrics: the Prometheus text format (DESIGN §6), behind the same bearer token as the API — Prometheus sends
/// one with <c>authorization: { credentials_file: … }</c> in its scrape config.
/// </summary>
internal static class MetricsEndpoint
{
    public const string Path = "/metrics";

    public static void Map(IEndpointRouteBuilder app, GatewayMetrics metrics) =>
        app.MapGet(Path, async (HttpContext context) =>
        {
            context.Response.ContentType = GatewayMetrics.ContentType;
            context.Response.Headers.CacheControl = "no-store";
            await metrics.WriteAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
        }).WithName("Metrics").WithTags("metrics").ExcludeFromDescription();
}
