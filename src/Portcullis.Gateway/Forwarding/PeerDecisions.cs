using System.Net;
using Portcullis.Core.Net;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Forwarding;

// PCP PEER (RFC 6887 §12), an explicit outbound mapping. It is a Mapping like any other (lease, quota, nonce, session
// end, expiry, one port from the allocator's keys) whose entry is a PeerEntry carrying the remote end, so the kernel
// writes it as SNAT for that one flow instead of a DNAT: IPv4, and IPv6 with NAT66. A routed IPv6 prefix translates
// nothing, so a PEER there is answered with the peer's own address and port (the RFC's "no NAT" case) and holds no
// state: the flow's replies are admitted by conntrack as every outbound flow's are.

/// <summary>
/// The PEER request decisions, for a peer that passed the front's gates. Like <see cref="MapDecisions"/> it changes no
/// state while deciding except the running batch's reservations (a create reserves its port); every lasting change is
/// in the commit of the <see cref="MapChange"/> it returns, made through <see cref="ILeaseCommits"/>. Not thread-safe:
/// the service's lock guards it.
/// </summary>
internal sealed class PeerDecisions(PortAllocator ports, Dictionary<PortKey, string> reserved, ILeaseCommits commits, MapDecisions decisions)
{
    public Decision Decide(PeerSession peer, PeerMappingRequest request, ForwardingPolicy policy, TimeSpan now)
    {
        // A remote of the other family could never match the flow (there is no NAT between the families).
        var remoteAddress = request.RemoteAddress.Unmapped();
        if (remoteAddress.AddressFamily != peer.TunnelAddress.AddressFamily
            || peer.PublicAddress.AddressFamily != peer.TunnelAddress.AddressFamily)
            return decisions.Refused(MapStatus.NotAuthorized);
        if (peer.Routed)
            return Untranslated(peer, request, policy);
        var remote = new IPEndPoint(remoteAddress, request.RemotePort);
        var existing = peer.FindPeer(request.Protocol, request.InternalPort, remote);
        if (existing is not null && !existing.AnswersTo(request.Nonce))
            return decisions.Refused(MapStatus.NotAuthorized);
        if (request.Lifetime <= TimeSpan.Zero)
            return Delete(peer, request, existing);
        if (existing is not null)
            return decisions.Refresh(existing, MapDecisions.Clamp(request.Lifetime, policy), filters: null, now);
        if (peer.Mappings.Count >= policy.MaxPerPeer)
            return decisions.Refused(MapStatus.QuotaExceeded);
        var status = ports.ChooseOutbound(peer, AsMap(request), policy, now, out var port);
        return status == MapStatus.Success ? Create(peer, request, remote, port, policy, now) : decisions.Refused(status);
    }

    private Decision Delete(PeerSession peer, PeerMappingRequest request, Mapping? existing)
    {
        var deleted = new MapResult(MapStatus.Success, peer.PublicAddress, 0, request.InternalPort, TimeSpan.Zero);
        if (existing is null)
            return deleted;
        return new MapChange([existing.Entry], [], "deleting", () =>
        {
            commits.Released([existing], ReleaseReason.Deleted);
            return deleted;
        });
    }

    private MapChange Create(PeerSession peer, PeerMappingRequest request, IPEndPoint remote, ushort port, ForwardingPolicy policy, TimeSpan now)
    {
        var lifetime = MapDecisions.Clamp(request.Lifetime, policy);
        var mapping = new Mapping(peer, request.Protocol, request.InternalPort, port, Mapping.CopyNonce(request.Nonce), lifetime,
            now + lifetime, MapDecisions.KernelExpirySlack, request.InternalPort, remote: remote);
        // Other requests decided in the same batch must not be given this port before it is committed.
        reserved[mapping.PortKey] = peer.PeerId;
        return new MapChange([], [mapping.Entry], "creating", () =>
        {
            commits.PeerCreated(mapping);
            return MapDecisions.Granted(mapping);
        });
    }

    // The allocator's question is a MAP's: which public port for this internal port, with this suggestion.
    private static MapRequest AsMap(PeerMappingRequest request) => new()
    {
        Client = request.Client,
        Protocol = request.Protocol,
        InternalPort = request.InternalPort,
        Lifetime = request.Lifetime,
        SuggestedExternalPort = request.SuggestedExternalPort,
        SuggestedExternalAddress = request.SuggestedExternalAddress,
    };

    // Routed IPv6: the flow leaves from the peer's own address and port, so that is the answer (RFC 6887 §12: the
    // external address and port are the internal ones where nothing translates). Nothing to write: no NAT to steer,
    // and the forward chain passes the peer's outbound flows and their replies. Deletion is answered alike.
    private static MapResult Untranslated(PeerSession peer, PeerMappingRequest request, ForwardingPolicy policy) =>
        new(MapStatus.Success, peer.TunnelAddress, request.InternalPort, request.InternalPort,
            request.Lifetime <= TimeSpan.Zero ? TimeSpan.Zero : MapDecisions.Clamp(request.Lifetime, policy));
}
