using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Portcullis.Gateway.Store;

namespace Portcullis.Gateway.Admin.Http;

/// <summary>/api/v1/policy (GET, PUT: the body replaces every override) and /api/v1/status.</summary>
internal static class PolicyEndpoints
{
    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapGet("/status", Status).WithName("GetStatus").WithTags("status");
        var policy = api.MapGroup("/policy").WithTags("policy");
        policy.MapGet("", GetAsync).WithName("GetPolicy");
        policy.MapPut("", SetAsync).WithName("SetPolicy").ProducesProblem(StatusCodes.Status400BadRequest);
    }

    private static Ok<StatusModel> Status(IGatewayOperations operations) => TypedResults.Ok(StatusModel.From(operations.GetStatus()));

    // ?gateway=NAME: that gateway's layer of overrides (a fleet); without it, the fleet's (one box: the only layer).
    private static async Task<Ok<PolicyModel>> GetAsync(string? gateway, IGatewayOperations operations, CancellationToken cancellationToken)
        => TypedResults.Ok(Model(await operations.GetPolicyAsync(gateway, cancellationToken).ConfigureAwait(false)));

    private static async Task<Ok<PolicyModel>> SetAsync(
        PolicyOverridesModel body, string? gateway, IGatewayOperations operations, CancellationToken cancellationToken)
    {
        var overrides = AdminRequestParser.Policy(body);
        return TypedResults.Ok(Model(await operations.SetPolicyAsync(overrides, gateway, cancellationToken).ConfigureAwait(false)));
    }

    private static PolicyModel Model(PolicyView view) =>
        new(view.Effective is { } effective ? EffectivePolicyModel.From(effective) : null, Overrides(view.Overrides), view.Gateway);

    private static PolicyOverridesModel Overrides(ServerPolicy policy) => new()
    {
        ForwardingEnabled = policy.ForwardingEnabled,
        PortRange = policy.PortRange is { } r ? new PortRangeModel(r.First, r.Last) : null,
        MaxPerPeer = policy.MaxPerPeer,
        ForwardAllDedicatedPorts = policy.ForwardAllDedicatedPorts,
        MaxFiltersPerMapping = policy.MaxFiltersPerMapping,
        InboundNewPerSecond = policy.InboundNewPerSecond,
        InboundMaxConnections = policy.InboundMaxConnections,
    };
}
