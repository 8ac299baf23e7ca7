using System.Net;
using Microsoft.Extensions.Logging;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Forwarding;

// A MAP or delete request of a peer that passed the front's gates (service running, live session, rate limit):
//  1. lifetime 0 deletes; an existing (peer, protocol, internal port) is refreshed; both need the mapping's nonce
//  2. a blocked internal port, or remote filters that cannot fit, are refused before anything else
//  3. quota, then a port: the allocator's choice, or a routed IPv6 peer's own pinhole
// The answer is either ready (a refusal, a no-op) or a MapChange: the entries for the one table update and the commit
// the front runs only after the kernel took them.

/// <summary>
/// The request decisions. Changes no state while deciding except the running batch's reservations it is handed (a
/// create reserves its port, so a later request of the same batch is not given it); every lasting change is in the
/// commit of the <see cref="MapChange"/> it returns, made through <see cref="ILeaseCommits"/>. Not thread-safe: the
/// service's lock guards it.
/// </summary>
internal sealed class MapDecisions(PortAllocator ports, Dictionary<PortKey, string> reserved, ILeaseCommits commits, ILogger logger)
{
    /// <summary>
    /// The kernel holds each element this much longer than the lease, so the service's own expiry always removes
    /// it first: a refresh racing the kernel's timeout would otherwise delete an element that is already gone and
    /// fail. The kernel timeout is the backstop for a daemon that died, where five seconds more do no harm.
    /// </summary>
    public static readonly TimeSpan KernelExpirySlack = TimeSpan.FromSeconds(5);

    public Decision Map(PeerSession peer, MapRequest request, ForwardingPolicy policy, TimeSpan now)
    {
        if (request.Lifetime <= TimeSpan.Zero)
            return Delete(peer, request);

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
                ? Refresh(existing, Clamp(request.Lifetime, policy), request.Filters, now)
                : Refused(MapStatus.NotAuthorized);
        }

        if (peer.Mappings.Count >= policy.MaxPerPeer)
            return Refused(MapStatus.QuotaExceeded);
        var port = (ushort)0;
        var status = peer.Routed ? Pinhole(request, policy, out port) : ports.Choose(peer, request, policy, now, out port);
        return status == MapStatus.Success
            ? Create(peer, request, port, Clamp(request.Lifetime, policy), policy, now)
            : Refused(status);
    }

    /// <summary>
    /// Deletes the peer's inbound mappings of one protocol made with <paramref name="nonce"/> (none: those made without
    /// one) — never another application's on the same peer.
    /// </summary>
    public Decision DeleteAll(PeerSession peer, MappingProtocol protocol, ReadOnlyMemory<byte>? nonce)
    {
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
            commits.Released(doomed, ReleaseReason.Deleted);
            return done;
        });
    }

    /// <summary>A new lease for <paramref name="existing"/>: its entry replaced in one transaction.</summary>
    public MapChange Refresh(Mapping existing, TimeSpan lifetime, IReadOnlyList<RemoteFilter>? filters, TimeSpan now)
    {
        // New filters replace the old ones in the same transaction (RFC 6887 §13.3); none given keeps them.
        var renewed = existing.Renewed(lifetime, now + lifetime, filters);
        // Delete + add in one transaction restarts the kernel timeout (nft cannot re-add an existing key).
        return new MapChange([existing.Entry], [renewed.Entry], "refreshing", () =>
        {
            commits.Renewed(existing, renewed);
            return Granted(renewed);
        });
    }

    public MapResult Refused(MapStatus status)
    {
        ForwardingLog.Refused(logger, status);
        return MapResult.Failure(status);
    }

    public static TimeSpan Clamp(TimeSpan requested, ForwardingPolicy policy) =>
        requested < policy.MinLifetime ? policy.MinLifetime
        : requested > policy.MaxLifetime ? policy.MaxLifetime
        : requested;

    public static MapResult Granted(Mapping mapping) =>
        new(MapStatus.Success, mapping.PublicAddress, mapping.PublicPort, mapping.InternalPort, mapping.Lifetime)
        {
            Filters = mapping.Filters,
        };

    public static ForwardingEntry[] EntriesOf(List<Mapping> mappings)
    {
        var entries = new ForwardingEntry[mappings.Count];
        for (var i = 0; i < entries.Length; i++)
            entries[i] = mappings[i].Entry;
        return entries;
    }

    private Decision Delete(PeerSession peer, MapRequest request)
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
            commits.Released([existing], ReleaseReason.Deleted);
            return deleted;
        });
    }

    private Decision Create(PeerSession peer, MapRequest request, ushort port, TimeSpan lifetime, ForwardingPolicy policy, TimeSpan now)
    {
        var nonce = Mapping.CopyNonce(request.Nonce);
        var internalPort = request.InternalPort == 0 ? port : request.InternalPort;
        if (request.InternalPort == 0 && policy.BlockedInternalPorts.Contains(internalPort))
            return Refused(MapStatus.NoResources);
        var mapping = new Mapping(peer, request.Protocol, internalPort, port, nonce, lifetime, now + lifetime, KernelExpirySlack,
            request.InternalPort, request.Filters ?? []);
        // Other requests decided in the same batch must not be given this port before it is committed.
        reserved[mapping.PortKey] = peer.PeerId;
        return new MapChange([], [mapping.Entry], "creating", () =>
        {
            commits.Created(mapping);
            return Granted(mapping);
        });
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

    /// <summary>Whether <paramref name="mapping"/> was made with <paramref name="nonce"/> (none, or empty, is "without one").</summary>
    private static bool MadeBy(Mapping mapping, ReadOnlyMemory<byte>? nonce) =>
        nonce is not { IsEmpty: false } given ? mapping.Nonce is null : mapping.Nonce is { } own && given.Span.SequenceEqual(own);
}

/// <summary>
/// The state changes a decided request commits once the kernel took its entries; the front runs them under its lock
/// and passes each to the parts it concerns (lease book, allocator, expiry timer, audit log).
/// </summary>
internal interface ILeaseCommits
{
    void Created(Mapping mapping);

    void PeerCreated(Mapping mapping);

    void Renewed(Mapping existing, Mapping renewed);

    void Released(List<Mapping> mappings, ReleaseReason reason);
}

/// <summary>Why mappings end: the audit log's word, and whether the port is remembered for the peer's reconnect.</summary>
internal enum ReleaseReason
{
    Deleted,
    Expired,
    SessionEnded,
    Revoked,
    PolicyChanged,
}
