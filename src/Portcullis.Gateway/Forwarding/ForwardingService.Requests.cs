using System.Net;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Forwarding;

// IPortMappingAuthority: the requests the NAT-PMP and PCP front ends pass on, already parsed and validated.
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

    /// <summary>A MAP request's decision: a result without the kernel (a refusal, a no-op), or a change to apply.</summary>
    private Decision DecideLocked(FrontRequest peerRequest)
    {
        if (peerRequest.Peer is { } outbound)
            return DecidePeerLocked(outbound);
        if (peerRequest.Map is not { } request)
            return DecideDeleteAllLocked(peerRequest.Client, peerRequest.Protocol, peerRequest.Nonce);
        var status = AdmitLocked(request.Client, countRequest: true, out var peer);
        if (peer is null)
            return Refused(status);
        if (request.Lifetime <= TimeSpan.Zero)
            return DecideDeleteLocked(peer, request);

        var policy = _policy;
        // Internal port 0 asks for "the same port as the public one" (DESIGN §6: `natpmpc -a 0 0 tcp 60`; PCP's
        // "all ports" meaning is refused by its front end). A blocked internal port is a service that must not face
        // the internet.
        if (policy.BlockedInternalPorts.Contains(request.InternalPort))
            return Refused(MapStatus.NotAuthorized);

        // FILTER: a remote-peer list longer than policy allows, or of another family than the mapping's public
        // address (it could never match), is refused before anything else changes.
        if (request.Filters is { } filters && !FiltersFit(filters, peer.PublicAddress, policy))
            return Refused(MapStatus.ExcessiveRemotePeers);

        var existing = peer.Find(request.Protocol, request.InternalPort);
        if (existing is not null)
        {
            return existing.AnswersTo(request.Nonce)
                ? DecideRefresh(existing, Clamp(request.Lifetime, policy), request.Filters)
                : Refused(MapStatus.NotAuthorized);
        }

        if (peer.Mappings.Count >= policy.MaxPerPeer)
            return Refused(MapStatus.QuotaExceeded);
        var port = (ushort)0;
        status = peer.Routed ? Pinhole(request, policy, out port) : _ports.Choose(peer, request, policy, Now, out port);
        return status == MapStatus.Success
            ? DecideCreateLocked(peer, request, port, Clamp(request.Lifetime, policy))
            : Refused(status);
    }

    /// <summary>
    /// A routed IPv6 peer's mapping opens its own /128 at the internal port (nothing is translated): no allocation and
    /// no collision with anyone, but a blocked external port stays closed, and a suggestion of another port can only
    /// be declined (PREFER_FAILURE then fails, as for IPv4).
    /// </summary>
    private static MapStatus Pinhole(MapRequest request, ForwardingPolicy policy, out ushort port)
    {
        port = request.InternalPort;
        if (request.PreferFailure && request.SuggestedExternalPort is not 0 && request.SuggestedExternalPort != port)
            return MapStatus.CannotProvideExternal;
        return policy.BlockedExternalPorts.Contains(port) ? MapStatus.NotAuthorized : MapStatus.Success;
    }

    private Decision DecideDeleteAllLocked(IPAddress client, MappingProtocol protocol, ReadOnlyMemory<byte>? nonce)
    {
        var status = AdmitLocked(client, countRequest: true, out var peer);
        if (peer is null)
            return Refused(status);
        var done = new MapResult(MapStatus.Success, peer.PublicAddress, 0, 0, TimeSpan.Zero);
        var doomed = new List<Mapping>();
        foreach (var mapping in peer.Mappings)
        {
            if (mapping.Owner == peer && mapping.Remote is null && mapping.Protocol == protocol && MadeBy(mapping, nonce))
                doomed.Add(mapping);
        }
        if (doomed.Count == 0)
            return done;
        return new MapChange(EntriesOf(doomed), [], "deleting", () =>
        {
            CommitReleaseLocked(doomed, ReleaseReason.Deleted);
            return done;
        });
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

    private Decision DecideDeleteLocked(PeerSession peer, MapRequest request)
    {
        var existing = peer.Find(request.Protocol, request.InternalPort);
        // Deleting what does not exist succeeds (RFC 6886 §3.4); the answer carries external port 0 and lifetime 0.
        var deleted = new MapResult(MapStatus.Success, peer.PublicAddress, 0, request.InternalPort, TimeSpan.Zero);
        if (existing is null)
            return deleted;
        if (!existing.AnswersTo(request.Nonce))
            return Refused(MapStatus.NotAuthorized);
        return new MapChange([existing.Entry], [], "deleting", () =>
        {
            CommitReleaseLocked([existing], ReleaseReason.Deleted);
            return deleted;
        });
    }

    private MapChange DecideRefresh(Mapping existing, TimeSpan lifetime, IReadOnlyList<RemoteFilter>? filters)
    {
        // New filters replace the old ones in the same transaction (RFC 6887 §13.3); none given keeps them.
        var renewed = existing.Renewed(lifetime, Now + lifetime, filters);
        // Delete + add in one transaction restarts the kernel timeout (nft cannot re-add an existing key).
        return new MapChange([existing.Entry], [renewed.Entry], "refreshing", () =>
        {
            _leases.Replace(existing, renewed);
            ArmTimerLocked(renewed.ExpiresAt);
            return Granted(renewed);
        });
    }

    private Decision DecideCreateLocked(PeerSession peer, MapRequest request, ushort port, TimeSpan lifetime)
    {
        var nonce = Mapping.CopyNonce(request.Nonce);
        var internalPort = request.InternalPort == 0 ? port : request.InternalPort;
        if (request.InternalPort == 0 && _policy.BlockedInternalPorts.Contains(internalPort))
            return Refused(MapStatus.NoResources);
        var mapping = new Mapping(peer, request.Protocol, internalPort, port, nonce, lifetime, Now + lifetime, KernelExpirySlack,
            request.InternalPort, request.Filters ?? []);
        // Other requests decided in the same batch must not be given this port before it is committed.
        _reserved[mapping.PortKey] = peer.PeerId;
        return new MapChange([], [mapping.Entry], "creating", () =>
        {
            _leases.Add(mapping);
            _ports.Granted(mapping.LeaseKey);
            ArmTimerLocked(mapping.ExpiresAt);
            if (_policy.AuditLog)
            {
                ForwardingLog.AuditCreated(_logger, peer.PeerId, mapping.Protocol, mapping.PublicAddress, mapping.PublicPort,
                    peer.TunnelAddress, mapping.InternalPort, (long)lifetime.TotalSeconds);
            }
            return Granted(mapping);
        });
    }

    /// <summary>Runs one table transaction; false (state untouched by the caller) when the kernel refused it.</summary>
    private bool TryUpdateTable(IReadOnlyCollection<ForwardingEntry> remove, IReadOnlyCollection<ForwardingEntry> add, string operation)
    {
        try
        {
            _table.Update(remove, add);
            return true;
        }
        catch (ForwardingTableException e)
        {
            ReportTableFailure(operation, e);
            return false;
        }
    }

    private void ReportTableFailure(string operation, ForwardingTableException e)
    {
        ForwardingLog.TableFailed(_logger, operation, e.GetType().Name);
        if (_policy.AuditLog)
            ForwardingLog.AuditTableError(_logger, operation, e.Message);
    }

    private static TimeSpan Clamp(TimeSpan requested, ForwardingPolicy policy) =>
        requested < policy.MinLifetime ? policy.MinLifetime
        : requested > policy.MaxLifetime ? policy.MaxLifetime
        : requested;

    private static MapResult Granted(Mapping mapping) =>
        new(MapStatus.Success, mapping.PublicAddress, mapping.PublicPort, mapping.InternalPort, mapping.Lifetime)
        {
            Filters = mapping.Filters,
        };

    private static bool FiltersFit(IReadOnlyList<RemoteFilter> filters, IPAddress publicAddress, ForwardingPolicy policy)
    {
        if (filters.Count > policy.MaxFiltersPerMapping)
            return false;
        foreach (var filter in filters)
        {
            if (filter.Prefix.BaseAddress.AddressFamily != publicAddress.AddressFamily)
                return false;
        }
        return true;
    }

    private MapResult Refused(MapStatus status)
    {
        ForwardingLog.Refused(_logger, status);
        return MapResult.Failure(status);
    }

    /// <summary>
    /// What one request asks of the front: <see cref="Peer"/> with <paramref name="Peer"/>, else <see cref="Map"/> or,
    /// with no map request, <see cref="DeleteAll"/>.
    /// </summary>
    private sealed record FrontRequest(
        MapRequest? Map, IPAddress Client, MappingProtocol Protocol, ReadOnlyMemory<byte>? Nonce, PeerMappingRequest? Peer = null);

    /// <summary>Whether <paramref name="mapping"/> was made with <paramref name="nonce"/> (none, or empty, is "without one").</summary>
    private static bool MadeBy(Mapping mapping, ReadOnlyMemory<byte>? nonce) =>
        nonce is not { IsEmpty: false } given ? mapping.Nonce is null : mapping.Nonce is { } own && given.Span.SequenceEqual(own);
}
