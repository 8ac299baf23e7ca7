using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Portcullis.Gateway.Admin.Http;

/// <summary>/api/v1/peers: list (paged: <see cref="AdminPage"/>), add (201 with the client config), show, remove, enable, disable.</summary>
internal static class PeerEndpoints
{
    public static void Map(IEndpointRouteBuilder api)
    {
        var peers = api.MapGroup("/peers").WithTags("peers");
        peers.MapGet("", ListAsync).WithName("ListPeers").ProducesProblem(StatusCodes.Status400BadRequest);
        peers.MapPost("", AddAsync).WithName("AddPeer")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status409Conflict);
        peers.MapGet("/{idOrName}", GetAsync).WithName("GetPeer");
        peers.MapDelete("/{idOrName}", RemoveAsync).WithName("RemovePeer");
        peers.MapPost("/{idOrName}/enable", EnableAsync).WithName("EnablePeer");
        peers.MapPost("/{idOrName}/disable", DisableAsync).WithName("DisablePeer");
    }

    private static async Task<Ok<PeerModel[]>> ListAsync(
        int? offset, int? limit, HttpResponse response, IGatewayOperations operations, CancellationToken cancellationToken)
    {
        IReadOnlyList<PeerView> peers;
        if (offset is null && limit is null)
        {
            peers = await operations.ListPeersAsync(cancellationToken).ConfigureAwait(false);
            AdminPage.Range(peers.Count, null, null, response);
        }
        else
        {
            AdminPage.Check(offset, limit); // before the store is asked
            var (page, total) = await operations.ListPeersPageAsync(offset ?? 0, limit ?? AdminPage.MaxLimit, cancellationToken).ConfigureAwait(false);
            AdminPage.Range(total, offset, limit, response);
            peers = page;
        }
        AdminHeaders.MarkLastKnown(response, operations);
        var models = new PeerModel[peers.Count];
        for (var i = 0; i < models.Length; i++)
            models[i] = PeerModel.From(peers[i]);
        return TypedResults.Ok(models);
    }

    private static async Task<Created<AddedPeerModel>> AddAsync(
        AddPeerBody body, string? qr, IGatewayOperations operations, CancellationToken cancellationToken)
    {
        if (qr is not null && qr != "svg")
            throw new AdminRequestException("qr: the only QR format is \"svg\".");
        var request = AdminRequestParser.Peer(body);
        var added = await operations.AddPeerAsync(request, cancellationToken).ConfigureAwait(false);
        var peer = PeerModel.From(added.Peer);
        var svg = qr is null ? null : WebConsole.QrSvg.Render(added.ClientConfig);
        return TypedResults.Created($"/api/v1/peers/{Uri.EscapeDataString(peer.Name)}", new AddedPeerModel(peer, added.ClientConfig, svg));
    }

    private static async Task<Results<Ok<PeerModel>, ProblemHttpResult>> GetAsync(
        string idOrName, IGatewayOperations operations, HttpResponse response, CancellationToken cancellationToken)
    {
        var peer = await operations.GetPeerAsync(idOrName, cancellationToken).ConfigureAwait(false);
        AdminHeaders.MarkLastKnown(response, operations);
        return peer is null ? NoSuchPeer(idOrName) : TypedResults.Ok(PeerModel.From(peer));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RemoveAsync(
        string idOrName, IGatewayOperations operations, CancellationToken cancellationToken)
    {
        var removed = await operations.RemovePeerAsync(idOrName, cancellationToken).ConfigureAwait(false);
        return removed ? TypedResults.NoContent() : NoSuchPeer(idOrName);
    }

    private static Task<Results<Ok<PeerModel>, ProblemHttpResult>> EnableAsync(
        string idOrName, IGatewayOperations operations, CancellationToken cancellationToken)
        => SetEnabledAsync(idOrName, enabled: true, operations, cancellationToken);

    private static Task<Results<Ok<PeerModel>, ProblemHttpResult>> DisableAsync(
        string idOrName, IGatewayOperations operations, CancellationToken cancellationToken)
        => SetEnabledAsync(idOrName, enabled: false, operations, cancellationToken);

    private static async Task<Results<Ok<PeerModel>, ProblemHttpResult>> SetEnabledAsync(
        string idOrName, bool enabled, IGatewayOperations operations, CancellationToken cancellationToken)
    {
        if (!await operations.SetPeerEnabledAsync(idOrName, enabled, cancellationToken).ConfigureAwait(false))
            return NoSuchPeer(idOrName);
        var peer = await operations.GetPeerAsync(idOrName, cancellationToken).ConfigureAwait(false);
        return peer is null ? NoSuchPeer(idOrName) : TypedResults.Ok(PeerModel.From(peer));
    }

    internal static ProblemHttpResult NoSuchPeer(string idOrName) => AdminProblem.NotFound($"No peer has the id or name \"{idOrName}\".");
}
