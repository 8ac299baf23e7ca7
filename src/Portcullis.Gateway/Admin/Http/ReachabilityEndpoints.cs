using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Portcullis.Gateway.Reachability;

namespace Portcullis.Gateway.Admin.Http;

/// <summary>
/// POST /api/v1/mappings/{address}/{protocol}/{port}/check: the operator's "is this port really open?" for any live
/// mapping, dynamic or static — the same probe a peer gets from the tunnel-side listener.
/// </summary>
internal static class ReachabilityEndpoints
{
    public static void Map(IEndpointRouteBuilder api, ReachabilityChecker checker) =>
        api.MapPost("/mappings/{address}/{protocol}/{port}/check", async (string address, string protocol, string port, HttpContext context) =>
        {
            var (publicAddress, parsedProtocol, publicPort) = AdminRequestParser.Key(address, protocol, port);
            var (report, refusal) = await checker.CheckForOperatorAsync(publicAddress, parsedProtocol, publicPort, context.RequestAborted)
                .ConfigureAwait(false);
            if (report is not null)
                return Results.Json(ReachabilityModel.From(report), AdminJson.Server);
            var (status, reason) = ReachabilityModel.Refused(refusal!.Value);
            return TypedResults.Problem(detail: reason, statusCode: status, title: status == 404 ? "Not found" : "Too many requests");
        }).WithName("CheckMapping").WithTags("mappings").ProducesProblem(StatusCodes.Status404NotFound);
}
