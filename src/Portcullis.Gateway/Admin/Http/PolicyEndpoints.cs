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

    private static async Task<Ok<PolicyModel>> GetAsync(IGatewayOperations operations, CancellationToken cancellationToken)
        => TypedResults.Ok(Model(await operations.GetPolicyAsync(cancellationToken).ConfigureAwait(false)));

    private static async Task<Ok<PolicyModel>> SetAsync(
        PolicyOverridesModel body, IGatewayOperations operations, CancellationToken cancellationToken)
    {
        var overrides = AdminRequestParser.Policy(body);
        return TypedResults.Ok(Model(await operations.SetPolicyAsync(overrides, cancellationToken).ConfigureAwait(false)));
    }

    private static PolicyModel Model(PolicyView view) => new(EffectivePolicyModel.From(view.Effective), Overrides(view.Overrides));

    private static PolicyOverridesModel Overrides(ServerPolicy policy) => new()
    {
        ForwardingEnabled = policy.ForwardingEnabled,
        PortRange = policy.PortRange is { } r ? new PortRangeModel(r.First, r.Last) : null,
        MaxPerPeer = policy.MaxPerPeer,
        ForwardAllDedicatedPorts = policy.ForwardAllDedicatedPorts,
    };
}
