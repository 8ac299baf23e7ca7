using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Admin.Http;

/// <summary>
/// /api/v1/mappings: the live dynamic (PCP/NAT-PMP) mappings — list (paged: <see cref="AdminPage"/>), revoke by
/// ADDRESS/PROTOCOL/PORT — and <c>who?public=ADDRESS:PORT&amp;at=TIME</c>, who held a public port then, from the audit trail.
/// </summary>
internal static class MappingEndpoints
{
    public static void Map(IEndpointRouteBuilder api)
    {
        var mappings = api.MapGroup("/mappings").WithTags("mappings");
        mappings.MapGet("", ListAsync).WithName("ListMappings").ProducesProblem(StatusCodes.Status400BadRequest);
        mappings.MapDelete("/{address}/{protocol}/{port}", Revoke).WithName("RevokeMapping")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        mappings.MapGet("/who", WhoAsync).WithName("WhoHeldPort")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status409Conflict);
    }

    private static async Task<Ok<AuditRecordModel[]>> WhoAsync(
        [Microsoft.AspNetCore.Mvc.FromQuery(Name = "public")] string? publicEndpoint, string? at, IGatewayOperations operations,
        CancellationToken cancellationToken)
    {
        var (address, port) = AdminRequestParser.PublicEndpoint(publicEndpoint);
        var when = AdminRequestParser.Time(at, "at");
        var records = await operations.FindHoldersAsync(address, port, when, cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(records.Select(AuditRecordModel.From).ToArray());
    }

    private static async Task<Ok<MappingModel[]>> ListAsync(
        int? offset, int? limit, HttpResponse response, IGatewayOperations operations, CancellationToken cancellationToken)
    {
        // A stable order, so pages follow one another (the service holds them unordered).
        var mappings = operations.ListMappings()
            .OrderBy(m => m.PublicAddress.ToString(), StringComparer.Ordinal).ThenBy(m => m.Protocol).ThenBy(m => m.PublicPort)
            .ToArray();
        var (start, length) = AdminPage.Range(mappings.Length, offset, limit, response);
        var models = new MappingModel[length];
        if (models.Length == 0)
            return TypedResults.Ok(models);

        // Mappings carry the opaque peer id; the operator reads names.
        var peers = await operations.ListPeersAsync(cancellationToken).ConfigureAwait(false);
        var names = new Dictionary<string, string>(peers.Count, StringComparer.Ordinal);
        foreach (var peer in peers)
            names[peer.Id] = peer.Name;
        for (var i = 0; i < models.Length; i++)
            models[i] = MappingModel.From(mappings[start + i], names.GetValueOrDefault(mappings[start + i].PeerId));
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
