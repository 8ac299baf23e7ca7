using System.Net;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Forwarding;

// IPortMappingAuthority: the requests the NAT-PMP and PCP front ends pass on, already parsed and validated. The front
// gates them (AdmitLocked); MapDecisions decides; the committer applies the batch's changes in one table update.
public sealed partial class ForwardingService
{
    public MapResult GetPublicAddress(IPAddress client)
    {
        ArgumentNullException.ThrowIfNull(client);
        lock (_lock)
        {
            var status = AdmitLocked(client, countRequest: false, out var peer);
            return peer is null ? Refused(status) : new MapResult(MapStatus.Success, peer.PublicAddress, 0, 0, TimeSpan.Zero);
        }
    }

    public MapResult Map(MapRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(request.Client);
        return _committer.Submit(new FrontRequest(request, request.Client, request.Protocol, request.Nonce), Normalize(request.Client));
    }

    /// <remarks>
    /// A mapping answers only to the nonce that made it: without a nonce (NAT-PMP) the delete takes the mappings made
    /// without one, with a PCP nonce only that nonce's mappings — never another application's on the same peer.
    /// </remarks>
    public MapResult DeleteAll(IPAddress client, MappingProtocol protocol, ReadOnlyMemory<byte>? nonce = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        return _committer.Submit(new FrontRequest(null, client, protocol, nonce), Normalize(client));
    }

    /// <summary>A request's decision: a result without the kernel (a refusal, a no-op), or a change to apply.</summary>
    private Decision DecideLocked(FrontRequest request)
    {
        if (request.Peer is { } outbound)
            return DecidePeerLocked(outbound);
        var status = AdmitLocked(request.Client, countRequest: true, out var peer);
        if (peer is null)
            return Refused(status);
        return request.Map is { } map
            ? _decisions.Map(peer, map, _policy, Now)
            : _decisions.DeleteAll(peer, request.Protocol, request.Nonce);
    }

    /// <summary>The gates every request passes: service running and enabled, a live session, the rate limit.</summary>
    private MapStatus AdmitLocked(IPAddress client, bool countRequest, out PeerSession? peer)
    {
        peer = null;
        // Stopping: a short-lived error, so clients retry against the next instance.
        if (_disposed || !_started)
            return MapStatus.NetworkFailure;
        if (!_policy.Enabled)
            return MapStatus.NotAuthorized;
        if (!_sessions.TryGetByAddress(Normalize(client), out var session))
            return MapStatus.UnknownClient;
        var now = Now;
        SweepMemoriesLocked(now);
        if (countRequest && !session.Requests.TryTake(now))
            return MapStatus.NoResources;
        peer = session;
        return MapStatus.Success;
    }

    private MapResult Refused(MapStatus status) => _decisions.Refused(status);

    /// <summary>
    /// What one request asks of the front: <see cref="Peer"/> with <paramref name="Peer"/>, else <see cref="Map"/> or,
    /// with no map request, <see cref="DeleteAll"/>.
    /// </summary>
    private sealed record FrontRequest(
        MapRequest? Map, IPAddress Client, MappingProtocol Protocol, ReadOnlyMemory<byte>? Nonce, PeerMappingRequest? Peer = null);
}
