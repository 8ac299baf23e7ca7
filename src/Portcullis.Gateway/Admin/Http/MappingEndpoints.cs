using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Admin.Http;

/// <summary>/api/v1/mappings: the live dynamic (PCP/NAT-PMP) mappings — list, revoke by ADDRESS/PROTOCOL/PORT.</summary>
internal static class MappingEndpoints
{
    public static void Map(IEndpointRouteBuilder api)
    {
        var mappings = api.MapGroup("/mappings").WithTags("mappings");
        mappings.MapGet("", ListAsync).WithName("ListMappings");
        mappings.MapDelete("/{address}/{protocol}/{port}", Revoke).WithName("RevokeMapping")
            .ProducesProblem(StatusCodes.Status400BadRequest);
    }

    private static async Task<Ok<MappingModel[]>> ListAsync(IGatewayOperations operations, CancellationToken cancellationToken)
    {
        var mappings = operations.ListMappings();
        var models = new MappingModel[mappings.Count];
        if (models.Length == 0)
            return TypedResults.Ok(models);

        // Mappings carry the opaque peer id; the operator reads names.
        var peers = await operations.ListPeersAsync(cancellationToken).ConfigureAwait(false);
        var names = new Dictionary<string, string>(peers.Count, StringComparer.Ordinal);
        foreach (var peer in peers)
            names[peer.Id] = peer.Name;
        for (var i = 0; i < models.Length; i++)
            models[i] = MappingModel.From(mappings[i], names.GetValueOrDefault(mappings[i].PeerId));
        return TypedResults.Ok(models);
    }

    private static Results<NoContent, ProblemHttpResult> Revoke(
        string address, string protocol, string port, IGatewayOperations operations)
    {
        var (publicAddress, parsedProtocol, publicPort) = AdminRequestParser.Key(address, protocol, port);
        return operations.RevokeMapping(publicAddress, parsedProtocol, publicPort)
            ? TypedResults.NoContent()
            : AdminProblem.NotFound($"No dynamic mapping on {publicAddress} {AdminText.Protocol(parsedProtocol)} {publicPort}.");
    }
}
