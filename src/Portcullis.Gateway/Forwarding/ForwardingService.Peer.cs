using System.Net;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Forwarding;

// IPortMappingAuthority.Peer: PCP PEER (RFC 6887 §12), an explicit outbound mapping. It is a Mapping like any other
// (lease, quota, nonce, session end, expiry, one port from the allocator's keys) whose entry is a PeerEntry carrying the
// remote end, so the kernel writes it as SNAT for that one flow instead of a DNAT: IPv4, and IPv6 with NAT66. A routed
// IPv6 prefix translates nothing, so a PEER there is answered with the peer's own address and port (the RFC's "no
// NAT" case) and holds no state: the flow's replies are admitted by conntrack as every outbound flow's are.
public sealed partial class ForwardingService
{
    public MapResult Peer(PeerMappingRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(request.Client);
        ArgumentNullException.ThrowIfNull(request.RemoteAddress);
        return _committer.Submit(new FrontRequest(null, request.Client, request.Protocol, request.Nonce, request), Normalize(request.Client));
    }

    private Decision DecidePeerLocked(PeerMappingRequest request)
    {
        var status = AdmitLocked(request.Client, countRequest: true, out var peer);
        if (peer is null)
            return Refused(status);
        // A remote of the other family could never match the flow (there is no NAT between the families).
        var remoteAddress = Unmapped(request.RemoteAddress);
        if (remoteAddress.AddressFamily != peer.TunnelAddress.AddressFamily
            || peer.PublicAddress.AddressFamily != peer.TunnelAddress.AddressFamily)
            return Refused(MapStatus.NotAuthorized);
        var policy = _policy;
        if (peer.Routed)
            return Untranslated(peer, request, policy);
        var remote = new IPEndPoint(remoteAddress, request.RemotePort);
        var existing = peer.FindPeer(request.Protocol, request.InternalPort, remote);
        if (existing is not null && !existing.AnswersTo(request.Nonce))
            return Refused(MapStatus.NotAuthorized);

        if (request.Lifetime <= TimeSpan.Zero)
        {
            var deleted = new MapResult(MapStatus.Success, peer.PublicAddress, 0, request.InternalPort, TimeSpan.Zero);
            if (existing is null)
                return deleted;
            return new MapChange([existing.Entry], [], "deleting", () =>
            {
                _commits.Released([existing], ReleaseReason.Deleted);
                return deleted;
            });
        }

        if (existing is not null)
            return _decisions.Refresh(existing, MapDecisions.Clamp(request.Lifetime, policy), filters: null, Now);
        if (peer.Mappings.Count >= policy.MaxPerPeer)
            return Refused(MapStatus.QuotaExceeded);
        var asMap = new MapRequest
        {
            Client = request.Client,
            Protocol = request.Protocol,
            InternalPort = request.InternalPort,
            Lifetime = request.Lifetime,
            SuggestedExternalPort = request.SuggestedExternalPort,
            SuggestedExternalAddress = request.SuggestedExternalAddress,
        };
        status = _ports.ChooseOutbound(peer, asMap, policy, Now, out var port);
        if (status != MapStatus.Success)
            return Refused(status);

        var lifetime = MapDecisions.Clamp(request.Lifetime, policy);
        var mapping = new Mapping(peer, request.Protocol, request.InternalPort, port, Mapping.CopyNonce(request.Nonce), lifetime,
            Now + lifetime, KernelExpirySlack, request.InternalPort, remote: remote);
        _reserved[mapping.PortKey] = peer.PeerId;
        return new MapChange([], [mapping.Entry], "creating", () =>
        {
            _leases.Add(mapping);
            _expiry.Arm(mapping.ExpiresAt, Now);
            if (_policy.AuditLog)
            {
                ForwardingLog.AuditPeerCreated(_logger, peer.PeerId, mapping.Protocol, peer.TunnelAddress, mapping.InternalPort,
                    remote.Address, remote.Port, mapping.PublicAddress, mapping.PublicPort, (long)lifetime.TotalSeconds);
            }
            return MapDecisions.Granted(mapping);
        });
    }

    // Routed IPv6: the flow leaves from the peer's own address and port, so that is the answer (RFC 6887 §12: the
    // external address and port are the internal ones where nothing translates). Nothing to write: no NAT to steer,
    // and the forward chain passes the peer's outbound flows and their replies. Deletion is answered alike.
    private static MapResult Untranslated(PeerSession peer, PeerMappingRequest request, ForwardingPolicy policy) =>
        new(MapStatus.Success, peer.TunnelAddress, request.InternalPort, request.InternalPort,
            request.Lifetime <= TimeSpan.Zero ? TimeSpan.Zero : MapDecisions.Clamp(request.Lifetime, policy));

    private static IPAddress Unmapped(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
