using System.Net;
using Microsoft.Extensions.Logging;
using Portcullis.Core.Net;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Forwarding;

// The policy layer (DESIGN §2) between the NAT-PMP/PCP front ends and the kernel table. Every change has one shape:
// under the one lock, validate, let the parts work out their changes, make one table update (TableWriter), and commit
// to the parts only if the kernel took it — so a refused update leaves the state as it was, and Success means live.
// The parts, each guarding its own state: SessionTable, LeaseBook (leases, expiries, pending removals), LeaseExpiry (the
// timer), PortAllocator (own ports, quarantine, remembered ports, randomness; asks one question: who holds a key),
// StaticForwardSet, DedicatedRoutes (and their retry), MapRequests (the gates and the batch of peers' requests, decided
// by MapDecisions and PeerDecisions). LeaseCommits says what a taken change does to the parts, LeaseReleases how mappings
// end; KernelReconciliation and ForwardingReadModel are pure views. The table is not thread-safe: the lock guards it too.

/// <summary>
/// Decides who may have which port and keeps the kernel's mappings equal to that decision. Leases and live static
/// forwards are bound to WireGuard sessions (<see cref="PeerSessionStarted"/>, <see cref="PeerSessionEnded"/>). Dynamic
/// state lives in memory only: <see cref="Start"/> reconciles the kernel to the empty state, so
/// <see cref="EpochSeconds"/> restarting from zero tells clients the truth. Thread-safe.
/// </summary>
public sealed class ForwardingService : IPortMappingAuthority, IForwardingAdmin, IDisposable
{
    private readonly Lock _lock = new();
    private readonly IForwardingTable _table;
    private readonly IReadOnlyList<IPAddress> _publicAddresses;
    private readonly TimeProvider _time;
    private readonly long _origin;
    private readonly ILogger _logger;
    private readonly SessionTable _sessions = new();
    private readonly LeaseBook _leases = new();
    private readonly StaticForwardSet _statics = new();
    private readonly PortAllocator _ports;
    private readonly LeaseExpiry _expiry;
    private readonly TableWriter _writer;
    private readonly LeaseCommits _commits;
    private readonly LeaseReleases _releases;
    private readonly MapRequests _requests;
    private DedicatedRoutes? _dedicated;
    private ForwardingPolicy _policy;
    private TimeSpan _epochStart;
    private bool _started;
    private bool _disposed;

    /// <param name="table">The kernel backend; installed by the host before <see cref="Start"/>.</param>
    /// <param name="publicAddresses">Shared public addresses; mappings appear on the first.</param>
    /// <param name="random">Port choice for tests; null (production) draws from <see cref="System.Security.Cryptography.RandomNumberGenerator"/>.</param>
    public ForwardingService(IForwardingTable table, IReadOnlyList<IPAddress> publicAddresses, ForwardingPolicy policy,
        TimeProvider timeProvider, ILogger<ForwardingService> logger, Random? random = null)
    {
        _table = table ?? throw new ArgumentNullException(nameof(table));
        _publicAddresses = [.. (publicAddresses ?? throw new ArgumentNullException(nameof(publicAddresses))).Select(Normalize)];
        if (_publicAddresses.Count == 0)
            throw new ArgumentException("At least one public address is needed.", nameof(publicAddresses));
        _policy = policy ?? throw new ArgumentNullException(nameof(policy));
        policy.Validate();
        _time = timeProvider ?? throw new ArgumentNullException(nameof(timeProvider));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _origin = timeProvider.GetTimestamp();
        _ports = new PortAllocator(_publicAddresses, OwnerOf, random, logger);
        _expiry = new LeaseExpiry(timeProvider, OnTimer);
        _writer = new TableWriter(table, logger, () => _policy.AuditLog);
        _commits = new LeaseCommits(_leases, _ports, _expiry, () => _policy, () => Now, logger);
        _releases = new LeaseReleases(_writer, _leases, _commits, _expiry, _ports, logger);
        _requests = new MapRequests(_lock, () => new(_started && !_disposed, _policy, Now), _sessions, _ports, _commits, _writer, logger);
    }

    /// <summary>IPv6 inbound: requests from a peer's IPv6 tunnel address map for that peer. Null: they find no session. Set before <see cref="Start"/>.</summary>
    public ForwardingIpv6? Ipv6 { get; init; }

    public uint EpochSeconds => Read(() => _started ? (uint)Math.Min(uint.MaxValue, (Now - _epochStart).Ticks / TimeSpan.TicksPerSecond) : 0);

    public ForwardingPolicy Policy => Read(() => _policy);

    public IReadOnlyList<ActiveMapping> Mappings => Read(() => ForwardingReadModel.Mappings(_leases, Now, _time.GetUtcNow()));

    public IReadOnlyList<StaticForwardState> StaticForwards => Read(() => ForwardingReadModel.StaticForwards(_statics));

    public int LiveStaticForwardCount => Read(() => _statics.Live.Count);

    public IReadOnlyList<DedicatedAssignment> DedicatedAddresses => Read(() => Dedicated.Assignments);

    public PortPoolUsage PoolUsage => Read(() => ForwardingReadModel.PoolUsage(_policy.PortRange, _leases, _statics, _ports.QuarantinedCount(Now)));

    public long SplitPairs => Read(() => _ports.SplitPairs);

    /// <summary>Table updates made for requests so far, and the requests they carried.</summary>
    internal (long Batches, long Requests) BatchTotals => _requests.BatchTotals;

    internal int QueuedRequests => _requests.Queued;

    // Built on first use: Ipv6 is an init property, set after the constructor.
    private DedicatedRoutes Dedicated =>
        _dedicated ??= new DedicatedRoutes(_writer, _publicAddresses, Ipv6, _time, retry: () => UnlessDisposed(() => Dedicated.Sync(_policy, _sessions)));

    /// <summary>Monotonic time since construction; every lease and memory is measured on it.</summary>
    private TimeSpan Now => _time.GetElapsedTime(_origin);

    /// <summary>
    /// Removes every element nobody owns before any session can exist, so none points at a reassigned tunnel address
    /// (DESIGN §3.1); then the epoch starts. Throws <see cref="ForwardingTableException"/> when the kernel cannot be
    /// made safe: the gateway must not serve then.
    /// </summary>
    public void Start() => Write(() =>
    {
        if (_started)
            throw new InvalidOperationException("The forwarding service is already started.");
        ReconcileLocked();
        (_epochStart, _started) = (Now, true);
    });

    /// <summary>Makes the kernel hold exactly what the state justifies (as <see cref="Start"/> did); all or nothing.</summary>
    public void Reconcile() => Write(ReconcileLocked, running: true);

    /// <summary>
    /// <paramref name="peerId"/> (an opaque id, never a key or a name: it becomes the elements' comment) has a live
    /// session at <paramref name="tunnelAddress"/>. Repeating it is harmless; a peer at a new address, or an address
    /// taken over by another peer, first loses what pointed at the old pairing.
    /// </summary>
    public void PeerSessionStarted(string peerId, IPAddress tunnelAddress)
    {
        ArgumentException.ThrowIfNullOrEmpty(peerId);
        var address = Normalize(tunnelAddress);
        Write(() => StartSessionLocked(peerId, address), running: true);
    }

    public void PeerSessionEnded(string peerId)
    {
        ArgumentNullException.ThrowIfNull(peerId);
        UnlessDisposed(() =>
        {
            if (!_sessions.TryGetByPeer(peerId, out var session))
                return;
            EndSessionLocked(session);
            SessionsChangedLocked();
        });
    }

    public MapResult GetPublicAddress(IPAddress client) => _requests.GetPublicAddress(client);

    public MapResult Map(MapRequest request) => _requests.Map(request);

    public MapResult DeleteAll(IPAddress client, MappingProtocol protocol, ReadOnlyMemory<byte>? nonce = null) => _requests.DeleteAll(client, protocol, nonce);

    public MapResult Peer(PeerMappingRequest request) => _requests.Peer(request);

    /// <summary>Keeps a port the gateway listens on itself (its WireGuard port) out of every dynamic mapping.</summary>
    public void ReserveOwnPort(MappingProtocol protocol, ushort port) => Write(() => _ports.ReserveOwnPort(protocol, port));

    public void SetStaticForwards(IReadOnlyCollection<StaticForwardRule> rules) =>
        ChangeStatics(StaticForwardSet.CheckAll(rules, null), wanted => _statics.Diff(wanted, null));

    public void ReplaceStaticForwardsOf(string peerId, IReadOnlyCollection<StaticForwardRule> rules) =>
        ChangeStatics(StaticForwardSet.CheckAll(rules, peerId ?? throw new ArgumentNullException(nameof(peerId))), wanted => _statics.Diff(wanted, peerId));

    public void AddStaticForward(StaticForwardRule rule) => ChangeStatics(StaticForwardSet.Check(rule), _statics.Diff);

    public bool RemoveStaticForward(IPAddress publicAddress, MappingProtocol protocol, ushort externalPort) =>
        ChangeStatics(new PortKey(Normalize(publicAddress), protocol, externalPort), key => (_statics.Rules.ContainsKey(key) ? [key] : [], [])) > 0;

    public int RemoveStaticForwardsOf(string peerId) =>
        ChangeStatics(peerId ?? throw new ArgumentNullException(nameof(peerId)), id => (_statics.KeysOf(id), []));

    public void SetDedicatedAddresses(IReadOnlyCollection<DedicatedAssignment> assignments) => Write(() =>
    {
        var next = Dedicated.Check(assignments);
        Dedicated.Replace(next, _policy, _sessions);
        ForwardingLog.DedicatedSet(_logger, next.Count);
        foreach (var session in Dedicated.Moved(_sessions) ?? [])
        {
            EndSessionLocked(session);
            StartSessionLocked(session.PeerId, session.TunnelAddress);
        }
    });

    public bool Revoke(IPAddress publicAddress, MappingProtocol protocol, ushort publicPort)
    {
        var key = new PortKey(Normalize(publicAddress), protocol, publicPort);
        return Write(() => _leases.TryGet(key, out var mapping) ? _releases.Release([mapping], ReleaseReason.Revoked) : 0, running: true) > 0;
    }

    public int RevokePeer(string peerId) =>
        Write(() => _sessions.TryGetByPeer(peerId, out var session) ? _releases.Release([.. session.Mappings], ReleaseReason.Revoked) : 0, running: true);

    public void UpdatePolicy(ForwardingPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        policy.Validate();
        Write(() =>
        {
            var removed = _releases.Release(_leases.NotAllowedBy(policy), ReleaseReason.PolicyChanged);
            _sessions.PolicyChanged(_policy, policy, Now);
            _policy = policy;
            Dedicated.Sync(_policy, _sessions);
            ForwardingLog.PolicyUpdated(_logger, removed);
        });
    }

    /// <summary>Stops the timers. The kernel is left to the host: Uninstall, or the next start's reconciliation.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
                return;
            _disposed = true;
        }
        _expiry.Dispose();
        _dedicated?.Dispose();
    }

    private void StartSessionLocked(string peerId, IPAddress address)
    {
        if (_sessions.Displaced(peerId, address) is not { } displaced)
            return;
        displaced.ForEach(EndSessionLocked);
        var session = _sessions.Open(peerId, address, _policy, Now, Dedicated, Ipv6);
        // The peer's static forwards enter the kernel; a refusal leaves them dark (logged), and the session stands.
        if (_statics.Activation(session, _leases) is { } change && _writer.TryUpdate(change.Remove, change.Add, "adding static forwards"))
            _statics.Commit(change, _commits, _leases);
        SessionsChangedLocked();
    }

    private void EndSessionLocked(PeerSession session)
    {
        _sessions.Remove(session);
        _releases.SessionEnded(_statics.TakeLiveOf(session.PeerId), [.. session.Mappings], Now);
    }

    // "Every port" routes follow sessions (DedicatedRoutes).
    private void SessionsChangedLocked()
    {
        Dedicated.Sync(_policy, _sessions);
        _logger.Counts(_sessions.Count, _leases.Count);
    }

    // One transaction for a static change (throws with nothing changed when the kernel refuses it); the parts change
    // only after it. The diff is taken under the lock. Returns how many rules went.
    private int ChangeStatics<T>(T argument, Func<T, (List<PortKey> Removed, List<StaticForwardRule> Added)> diff) => Write(() =>
    {
        var (removed, added) = diff(argument);
        if (removed.Count == 0 && added.Count == 0)
            return 0;
        var change = _statics.Plan(removed, added, _leases, _sessions, inKernel: _started);
        if (change.Remove.Count > 0 || change.Add.Count > 0)
            _writer.Update(change.Remove, change.Add);
        _statics.Commit(change, _commits, _leases);
        ForwardingLog.StaticForwardsChanged(_logger, removed.Count, added.Count, _statics.Live.Count);
        return removed.Count;
    });

    private void ReconcileLocked()
    {
        var (remove, add) = KernelReconciliation.Plan(_table.List(), _statics, _leases);
        if (remove.Count > 0 || add.Count > 0)
            _writer.Update(remove, add);
        // The kernel now holds exactly the desired set: nothing deferred is left to remove.
        _leases.ClearPending();
        _logger.Reconciled(remove.Count, add.Count);
    }

    /// <summary>The port allocator's one question: who holds the key (a lease, the running batch, a pending removal, a static rule).</summary>
    private string? OwnerOf(PortKey key) => _leases.OwnerOf(key) ?? _requests.ReservedFor(key) ?? _statics.OwnerOf(key);

    private T Read<T>(Func<T> read)
    {
        lock (_lock)
            return read();
    }

    private void OnTimer() => UnlessDisposed(() => _releases.Tick(Now));

    // Timers and session events may still arrive while the service stops: they do nothing then.
    private void UnlessDisposed(Action action)
    {
        lock (_lock)
        {
            if (!_disposed)
                action();
        }
    }

    private void Write(Action write, bool running = false) => Write(() => { write(); return 0; }, running);

    // Under the lock; refused once disposed, and before Start for what needs a reconciled kernel.
    private T Write<T>(Func<T> write, bool running = false)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (running && !_started)
                throw new InvalidOperationException("Start the forwarding service first: the kernel is not reconciled yet.");
            return write();
        }
    }

    // Front ends may hand over IPv4 as IPv4-mapped IPv6 (a dual-stack socket); state keys are plain IPv4.
    private static IPAddress Normalize(IPAddress address) => (address ?? throw new ArgumentNullException(nameof(address))).Unmapped();
}
