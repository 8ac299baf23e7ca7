using System.Net;
using Microsoft.Extensions.Logging;
using Portcullis.Core.Net;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Forwarding;

// The requests the NAT-PMP and PCP front ends pass on (IPortMappingAuthority), already parsed and validated, run in
// batches (GroupCommitter: concurrent requests, at most one per client) under the service's one lock:
//  1. each request passes the gates (service running and enabled, a live session, the peer's rate limit) and is
//     decided in order against the state and the ports reserved by the batch's earlier creates (MapDecisions,
//     PeerDecisions)
//  2. every change goes to the kernel in one table update (TableWriter.ApplyAll)
//  3. it succeeded: each change commits and its answer is ready
//  4. it failed: each change is tried alone, so only a change the kernel refuses fails its request (NetworkFailure)
// Nothing commits before the kernel took it, so an answer always means "live (or gone) in the kernel".

/// <summary>
/// The peers' side of the forwarding service (its <see cref="IPortMappingAuthority"/> members): the gates and the batches of
/// their requests. Owns the running batch's reservations (ports given to creates decided but not yet committed) and the
/// group committer. Thread-safe: every batch runs under the service's lock, which also guards the parts it uses.
/// </summary>
internal sealed class MapRequests
{
    /// <summary>The most requests one table update carries.</summary>
    public const int MaxBatch = 256;

    /// <summary>Under load, how long a batch waits to fill before it goes (idle requests go at once).</summary>
    public static readonly TimeSpan MaxBatchWait = TimeSpan.FromMicroseconds(50);

    private readonly Dictionary<PortKey, string> _reserved = [];

    // Per batch, reused (the lock guards them): the changes of its requests, and the writer's answer callback.
    private readonly List<(GroupCommitter<FrontRequest, MapResult>.Slot Slot, MapChange Change)> _changes = [];
    private readonly Action<GroupCommitter<FrontRequest, MapResult>.Slot, MapChange, bool> _applied;
    private readonly Lock _lock;
    private readonly Func<RequestState> _state;
    private readonly GroupCommitter<FrontRequest, MapResult> _committer;
    private readonly SessionTable _sessions;
    private readonly PortAllocator _ports;
    private readonly TableWriter _writer;
    private readonly MapDecisions _decisions;
    private readonly PeerDecisions _peers;

    /// <param name="serviceLock">The service's lock: it guards every part a batch uses.</param>
    /// <param name="state">The service's state for the gates, read under that lock.</param>
    public MapRequests(Lock serviceLock, Func<RequestState> state, SessionTable sessions, PortAllocator ports, ILeaseCommits commits,
        TableWriter writer, ILogger logger)
    {
        _lock = serviceLock;
        _state = state;
        _committer = new(RunBatch, MaxBatch, MaxBatchWait);
        _applied = Applied;
        _sessions = sessions;
        _ports = ports;
        _writer = writer;
        _decisions = new MapDecisions(ports, _reserved, commits, logger);
        _peers = new PeerDecisions(ports, _reserved, commits, _decisions);
    }

    /// <summary>Table updates made for requests so far, and the requests they carried.</summary>
    public (long Batches, long Requests) BatchTotals => _committer.Totals;

    /// <summary>Requests waiting for the next batch now.</summary>
    public int Queued => _committer.Queued;

    public MapResult GetPublicAddress(IPAddress client)
    {
        ArgumentNullException.ThrowIfNull(client);
        lock (_lock)
        {
            var status = Admit(client, countRequest: false, _state(), out var peer);
            return peer is null ? Refused(status) : new MapResult(MapStatus.Success, peer.PublicAddress, 0, 0, TimeSpan.Zero);
        }
    }

    public MapResult Map(MapRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Submit(new FrontRequest(request, request.Client, request.Protocol, request.Nonce));
    }

    /// <remarks>
    /// A mapping answers only to the nonce that made it: without a nonce (NAT-PMP) the delete takes the mappings made
    /// without one, with a PCP nonce only that nonce's mappings — never another application's on the same peer.
    /// </remarks>
    public MapResult DeleteAll(IPAddress client, MappingProtocol protocol, ReadOnlyMemory<byte>? nonce = null) =>
        Submit(new FrontRequest(null, client, protocol, nonce));

    public MapResult Peer(PeerMappingRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(request.RemoteAddress);
        return Submit(new FrontRequest(null, request.Client, request.Protocol, request.Nonce, request));
    }

    /// <summary>The peer a create of the running batch gave <paramref name="key"/>, or null.</summary>
    public string? ReservedFor(PortKey key) => _reserved.TryGetValue(key, out var peerId) ? peerId : null;

    private MapResult Submit(FrontRequest request)
    {
        ArgumentNullException.ThrowIfNull(request.Client);
        return _committer.Submit(request, request.Client.Unmapped());
    }

    /// <summary>The gates every request passes: service running and enabled, a live session, the rate limit.</summary>
    private MapStatus Admit(IPAddress client, bool countRequest, RequestState state, out PeerSession? peer)
    {
        peer = null;
        // Stopping: a short-lived error, so clients retry against the next instance.
        if (!state.Running)
            return MapStatus.NetworkFailure;
        if (!state.Policy.Enabled)
            return MapStatus.NotAuthorized;
        if (!_sessions.TryGetByAddress(client.Unmapped(), out var session))
            return MapStatus.UnknownClient;
        _ports.Sweep(state.Now);
        if (countRequest && !session.Requests.TryTake(state.Now))
            return MapStatus.NoResources;
        peer = session;
        return MapStatus.Success;
    }

    private MapResult Refused(MapStatus status) => _decisions.Refused(status);

    // Decides every request of the batch, applies the changes in one table update, answers each.
    private void RunBatch(IReadOnlyList<GroupCommitter<FrontRequest, MapResult>.Slot> batch)
    {
        lock (_lock)
        {
            var state = _state();
            try
            {
                Run(batch, state);
            }
            finally
            {
                _reserved.Clear();
                _changes.Clear();
            }
        }
    }

    private void Run(IReadOnlyList<GroupCommitter<FrontRequest, MapResult>.Slot> batch, RequestState state)
    {
        for (var i = 0; i < batch.Count; i++) // not foreach: an interface's enumerator is an allocation per batch
        {
            var slot = batch[i];
            Decision decision;
            try
            {
                decision = Decide(slot.Request, state);
            }
            catch (Exception e)
            {
                // A bug in one request's decision is its caller's alone (its front end answers it).
                slot.Error = e;
                continue;
            }
            if (decision.Change is { } change)
                _changes.Add((slot, change));
            else
                slot.Result = decision.Result;
        }
        if (_changes.Count > 0)
            _writer.ApplyAll(_changes, _applied);
    }

    private Decision Decide(FrontRequest request, RequestState state)
    {
        var status = Admit(request.Client, countRequest: true, state, out var peer);
        if (peer is null)
            return Refused(status);
        if (request.Peer is { } outbound)
            return _peers.Decide(peer, outbound, state.Policy, state.Now);
        return request.Map is { } map
            ? _decisions.Map(peer, map, state.Policy, state.Now)
            : _decisions.DeleteAll(peer, request.Protocol, request.Nonce);
    }

    private void Applied(GroupCommitter<FrontRequest, MapResult>.Slot slot, MapChange change, bool taken) =>
        slot.Result = taken ? change.Commit() : Refused(MapStatus.NetworkFailure);
}

/// <summary>What the gates ask of the service, read under its lock: whether it runs (started, not disposed), its policy, its clock.</summary>
internal readonly record struct RequestState(bool Running, ForwardingPolicy Policy, TimeSpan Now);

/// <summary>
/// What one request asks: a PEER mapping with <paramref name="Peer"/>, else a MAP or, with no map request, a delete of
/// all the client's mappings of <paramref name="Protocol"/> made with <paramref name="Nonce"/>.
/// </summary>
internal sealed record FrontRequest(
    MapRequest? Map, IPAddress Client, MappingProtocol Protocol, ReadOnlyMemory<byte>? Nonce, PeerMappingRequest? Peer = null);
