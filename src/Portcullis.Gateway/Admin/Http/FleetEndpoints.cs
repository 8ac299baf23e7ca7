using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Portcullis.Gateway.Admin.Http;

/// <summary>/api/v1/gateways: the fleet's gateways as the shared store's status board holds them (one box: empty).</summary>
internal static class FleetEndpoints
{
    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapGet("/gateways", ListAsync).WithName("ListGateways").WithTags("fleet");
    }

    private static async Task<Ok<GatewayModel[]>> ListAsync(IGatewayOperations operations, CancellationToken cancellationToken)
    {
        var fleet = await operations.GetFleetAsync(cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(fleet.Gateways.Select(g => new GatewayModel(g.Name, g.Region, g.DefaultAddress, g.Up, g.LastSeenUtc, g.StartedUtc,
            g.ConnectedPeers, g.DynamicMappings, g.LiveStaticForwards, g.Version, g.SchemaVersion)).ToArray());
    }
}
