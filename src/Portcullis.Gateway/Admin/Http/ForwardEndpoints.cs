using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Portcullis.Gateway.Store;

namespace Portcullis.Gateway.Admin.Http;

/// <summary>/api/v1/forwards: static forwards — list, add (two for "both"), remove by ADDRESS/PROTOCOL/PORT.</summary>
internal static class ForwardEndpoints
{
    public static void Map(IEndpointRouteBuilder api)
    {
        var forwards = api.MapGroup("/forwards").WithTags("forwards");
        forwards.MapGet("", ListAsync).WithName("ListForwards");
        forwards.MapPost("", AddAsync).WithName("AddForward")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status409Conflict);
        forwards.MapDelete("/{address}/{protocol}/{port}", RemoveAsync).WithName("RemoveForward")
            .ProducesProblem(StatusCodes.Status400BadRequest);
    }

    private static async Task<Ok<ForwardModel[]>> ListAsync(IGatewayOperations operations, CancellationToken cancellationToken)
        => TypedResults.Ok(Models(await operations.ListForwardsAsync(cancellationToken).ConfigureAwait(false)));

    private static async Task<Results<Created<ForwardModel[]>, ProblemHttpResult>> AddAsync(
        AddForwardBody body, IGatewayOperations operations, CancellationToken cancellationToken)
    {
        var request = AdminRequestParser.Forward(body);
        var added = await operations.AddForwardAsync(request, cancellationToken).ConfigureAwait(false);
        if (added is null)
            return PeerEndpoints.NoSuchPeer(request.Peer);
        return TypedResults.Created("/api/v1/forwards", Models(added));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RemoveAsync(
        string address, string protocol, string port, IGatewayOperations operations, CancellationToken cancellationToken)
    {
        var (publicAddress, parsedProtocol, externalPort) = AdminRequestParser.Key(address, protocol, port);
        var key = new ForwardKey(publicAddress, parsedProtocol, externalPort);
        return await operations.RemoveForwardAsync(key, cancellationToken).ConfigureAwait(false)
            ? TypedResults.NoContent()
            : AdminProblem.NotFound($"No static forward on {key}.");
    }

    private static ForwardModel[] Models(IReadOnlyList<ForwardView> forwards)
    {
        var models = new ForwardModel[forwards.Count];
        for (var i = 0; i < models.Length; i++)
            models[i] = ForwardModel.From(forwards[i]);
        return models;
    }
}
