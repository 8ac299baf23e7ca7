using System.Net;
using System.Net.Sockets;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Forwarding;

// IPortMappingAuthority.Peer: PCP PEER (RFC 6887 §12), an explicit outbound mapping. It is a Mapping like any other
// (lease, quota, nonce, session end, expiry, one port from the allocator's keys) whose entry carries the remote end,
// so the kernel writes it as SNAT for that one flow instead of a DNAT.
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
        // IPv4 only: the ip6 table has no outbound map yet, and a remote of another family could never match.
        var remoteAddress = Unmapped(request.RemoteAddress);
        if (peer.Primary != peer || peer.PublicAddress.AddressFamily != AddressFamily.InterNetwork
            || remoteAddress.AddressFamily != AddressFamily.InterNetwork)
            return Refused(MapStatus.NotAuthorized);
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
                CommitReleaseLocked([existing], ReleaseReason.Deleted);
                return deleted;
            });
        }

        var policy = _policy;
        if (existing is not null)
            return DecideRefresh(existing, Clamp(request.Lifetime, policy), filters: null);
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

        var lifetime = Clamp(request.Lifetime, policy);
        var mapping = new Mapping(peer, request.Protocol, request.InternalPort, port, Mapping.CopyNonce(request.Nonce), lifetime,
            Now + lifetime, KernelExpirySlack, request.InternalPort, remote: remote);
        _reserved[mapping.PortKey] = peer.PeerId;
        return new MapChange([], [mapping.Entry], "creating", () =>
        {
            _leases.Add(mapping);
            ArmTimerLocked(mapping.ExpiresAt);
            return Granted(mapping);
        });
    }

    private static IPAddress Unmapped(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
