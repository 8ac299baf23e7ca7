using System.Net;
using System.Net.Sockets;
using Portcullis.Linux.Interop;

namespace Portcullis.Linux.Nftables;

/// <summary>
/// Ends the tracked flows of removed port mappings off the caller's thread, by exact tuple, from an index of the
/// DNATed flows the kernel tracks. One thread owns the event socket, the index and the delete socket:
/// <list type="number">
/// <item>at start: join the NEW/DESTROY event groups, then build the index from one table dump;</item>
/// <item>the caller commits the map change (no new flow can reach the old target), then <see cref="End"/> queues the
/// destinations and wakes the thread — nothing more on the caller's side;</item>
/// <item>the thread takes the queue, then reads every event waiting (the kernel queued the NEW event of every flow
/// confirmed before the commit), so the index is complete for the queued destinations;</item>
/// <item>it takes their flows from the index and deletes exactly those (tuple, zone, id): O(flows of the mapping);</item>
/// <item>for <see cref="Guard"/> after that, a flow still confirmed for such a destination (a packet that met the old
/// map just before the commit) is deleted as its event arrives, unless the destination was mapped again.</item>
/// </list>
/// Lost events (socket overrun) rebuild the index from a dump; without events (groups not joinable) every cleanup is
/// a table dump filtered by destination, as <see cref="Conntrack.Delete(IReadOnlyCollection{OriginalDestination})"/>
/// does (IPv6: one whole-table dump per cleanup, read into a scratch index) — on this thread too. IPv4 and IPv6 flows
/// alike (<see cref="FlowAddress"/>). Namespace: that of the thread that constructed this object.
/// </summary>
public sealed unsafe partial class ConntrackReaper : IDisposable
{
    /// <summary>How long after a cleanup a late flow of the same destination is still ended on sight.</summary>
    public static readonly TimeSpan Guard = TimeSpan.FromMilliseconds(100);

    private const short PollIn = 0x001;
    private const int EfdCloexec = 0x80000;
    private const int EfdNonblock = 0x800;
    private readonly Conntrack _conntrack;
    private readonly ConntrackEvents? _events;
    private readonly ConntrackFlowIndex _index = new();
    private readonly IConntrackReaperLog _log;
    private readonly TimeProvider _time;
    private readonly int _wakeFd;
    private readonly Thread _thread;
    private readonly object _gate = new();                      // guards the fields below it
    private List<Work> _pending = [];
    private readonly Dictionary<FlowKey, (MappingTarget Mapping, long Deadline)> _guarded = []; // deadline: a timestamp
    private readonly Dictionary<MappingTarget, long> _reopened = [];  // target → cleanups posted when it came back
    private List<Work>? _inFlight;                                    // taken by the thread, not done yet
    private long _posted;
    private long _done;
    private bool _stopping;
    private long _deleted;
    private bool _indexValid;
    private (UInt128 Prefix, int Length)? _routed;              // guarded by _gate; the index follows it on the thread
    private (UInt128 Prefix, int Length)[] _tunnel = [];       // guarded by _gate; the address index follows it

    /// <param name="log">Told of fallbacks, overruns and each cleanup.</param>
    /// <param name="time">Time of the guard window.</param>
    /// <param name="receiveBuffer">The event socket's buffer (see <see cref="ConntrackEvents"/>).</param>
    /// <param name="useEvents">False: never join the event groups, always dump (the fallback, to test or compare it).</param>
    public ConntrackReaper(IConntrackReaperLog log, TimeProvider? time = null, int receiveBuffer = 8 * 1024 * 1024, bool useEvents = true)
    {
        ArgumentNullException.ThrowIfNull(log);
        _log = log;
        _time = time ?? TimeProvider.System;
        _conntrack = new Conntrack(log.DumpNotice);
        try
        {
            _events = useEvents ? new ConntrackEvents(receiveBuffer) : null;
        }
        catch (LinuxCallException e)
        {
            _log.EventsUnavailable(e.Message);
        }
        _wakeFd = Libc.EventFd(0, EfdCloexec | EfdNonblock);
        if (_wakeFd < 0)
        {
            var failure = Errno.LastFailure("eventfd");
            _events?.Dispose();
            _conntrack.Dispose();
            throw failure;
        }
        _thread = new Thread(Run) { IsBackground = true, Name = "conntrack reaper" };
        _thread.Start();
    }

    /// <summary>
    /// The routed IPv6 prefix whose pinholes (peer /128 . protocol . port, untranslated) are mappings too: a removed
    /// pinhole's flows are those to it from outside the prefix (from the public side). Null: NAT66 or no IPv6.
    /// </summary>
    public void SetRoutedPrefix(System.Net.IPNetwork? prefix)
    {
        (UInt128, int)? routed = prefix is { } p && p.BaseAddress.AddressFamily == AddressFamily.InterNetworkV6
            ? (FlowAddress.Of(p.BaseAddress), p.PrefixLength)
            : null;
        lock (_gate)
        {
            if (_routed == routed)
                return;
            _routed = routed;
        }
        Wake();
    }

    /// <summary>Whether cleanups use the event index (false: dumps, the event groups could not be joined).</summary>
    public bool UsesEvents => _events is not null;

    /// <summary>Flows deleted since start.</summary>
    public long Deleted => Interlocked.Read(ref _deleted);

    /// <summary>
    /// Queues the end of every tracked flow (IPv4 or IPv6) whose original destination is one of
    /// <paramref name="destinations"/> and returns at once. Call after the map no longer holds them. Throws
    /// <see cref="ArgumentException"/> for a protocol other than tcp/udp.
    /// </summary>
    public void End(IReadOnlyCollection<OriginalDestination> destinations)
    {
        ArgumentNullException.ThrowIfNull(destinations);
        End(destinations.Select(d => new EndedMapping(d, null, 0)).ToList());
    }

    /// <summary>
    /// Queues the end of the flows that removed mappings carried — to their destination and, where
    /// <see cref="EndedMapping.Target"/> is named, DNATed to that target only — and returns at once. Call after the
    /// map no longer holds them.
    /// </summary>
    public void End(IReadOnlyCollection<EndedMapping> mappings)
    {
        ArgumentNullException.ThrowIfNull(mappings);
        if (mappings.Count == 0)
            return;
        var targets = new List<MappingTarget>(mappings.Count);
        var destinations = new List<OriginalDestination>(mappings.Count);
        foreach (var mapping in mappings)
        {
            targets.Add(TargetOf(mapping));
            destinations.Add(mapping.Destination);
        }
        Post(new Work(targets, destinations, 0, null));
    }

    /// <summary>
    /// Queues the end of every tracked TCP and UDP flow to <paramref name="address"/> on any port except the destinations
    /// in <paramref name="keep"/> (still mapped elsewhere), for an "every port" route that went away.
    /// </summary>
    public void EndAllPorts(IPAddress address, IReadOnlySet<FlowKey> keep)
    {
        ArgumentNullException.ThrowIfNull(keep);
        Post(new Work(null, null, FlowAddress.Of(address), keep));
    }

    /// <summary>
    /// Call before committing new mappings: a cleanup still queued, or a guard still on, for the same destination and
    /// target is dropped — the same mapping came back, and its flows (old and new) are its own again. A cleanup for
    /// another target still ends only that target's flows. Returns the mappings whose cleanup was dropped: if the
    /// commit then fails, hand them to <see cref="End(IReadOnlyCollection{EndedMapping})"/> again.
    /// </summary>
    public IReadOnlyCollection<EndedMapping> Reopen(IReadOnlyCollection<EndedMapping> mappings)
    {
        ArgumentNullException.ThrowIfNull(mappings);
        List<EndedMapping>? dropped = null;
        lock (_gate)
        {
            if (_guarded.Count == 0 && _posted == _done)
                return [];
            foreach (var mapping in mappings)
            {
                var target = TargetOf(mapping);
                var found = false;
                if (_guarded.TryGetValue(target.Key, out var guard) && guard.Mapping == target)
                    found = _guarded.Remove(target.Key);
                foreach (var work in _pending)
                    found |= work.Targets?.RemoveAll(t => t == target) > 0;
                // A cleanup the thread has taken but not done yet skips this target too (see Reap).
                if (_inFlight is not null && _inFlight.Exists(work => work.Targets?.Contains(target) == true))
                {
                    _reopened[target] = _posted;
                    found = true;
                }
                if (found)
                    (dropped ??= []).Add(mapping);
            }
        }
        return dropped ?? (IReadOnlyCollection<EndedMapping>)[];
    }

    /// <summary>Whether a cleanup is queued or a guard on (a cheap check before building the list for <see cref="Reopen"/>).</summary>
    public bool Busy
    {
        get { lock (_gate) return _guarded.Count > 0 || _posted > _done; }
    }

    /// <summary>Waits until every cleanup queued before this call is done; false on timeout.</summary>
    public bool WaitIdle(TimeSpan timeout)
    {
        lock (_gate)
        {
            var target = _posted;
            var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
            while (_done < target)
            {
                var left = deadline - Environment.TickCount64;
                if (left <= 0 || !Monitor.Wait(_gate, TimeSpan.FromMilliseconds(left)))
                    return _done >= target;
            }
            return true;
        }
    }

    /// <summary>The protocol-and-port key of a destination ("tcp"/"udp", IPv4 or IPv6).</summary>
    public static FlowKey KeyOf(string protocol, IPAddress address, ushort port)
    {
        ArgumentNullException.ThrowIfNull(address);
        byte number = protocol switch
        {
            "tcp" => 6,
            "udp" => 17,
            _ => throw new ArgumentException($"protocol must be tcp or udp, not '{protocol}'", nameof(protocol)),
        };
        if (address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
            throw new ArgumentException("only IPv4 and IPv6 destinations are tracked here", nameof(address));
        return new FlowKey(FlowAddress.Of(address), number, port);
    }

    /// <summary>Finishes the cleanups queued (waiting at most a few seconds), then stops the thread and closes the sockets.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_stopping)
                return;
            _stopping = true;
        }
        Wake();
        _thread.Join(TimeSpan.FromSeconds(10));
        _events?.Dispose();
        _conntrack.Dispose();
        Libc.Close(_wakeFd);
    }

    private void Post(Work work)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_stopping, this);
            _posted++;
            _pending.Add(work with { Sequence = _posted });
        }
        Wake();
    }

    private void Wake()
    {
        ulong one = 1;
        _ = Libc.Write(_wakeFd, (byte*)&one, sizeof(ulong));
    }

    private static MappingTarget TargetOf(EndedMapping mapping)
    {
        var key = KeyOf(mapping.Destination.Protocol, mapping.Destination.Address, mapping.Destination.Port);
        return mapping.Target is null ? new MappingTarget(key, 0, 0) : new MappingTarget(key, FlowAddress.Of(mapping.Target), mapping.TargetPort);
    }

    // One unit of cleanup: mappings (with their destinations for the dump fallback), or all ports of an address.
    private sealed record Work(List<MappingTarget>? Targets, List<OriginalDestination>? Destinations, UInt128 Address, IReadOnlySet<FlowKey>? Keep)
    {
        /// <summary>Its place in the order of cleanups posted (1, 2, …).</summary>
        public long Sequence { get; init; }

        /// <summary>Every flow of <see cref="Address"/> (a tunnel address that lost its peer), not its ports.</summary>
        public bool Involving { get; init; }

        /// <summary>Outbound flows by exact tuple (removed PCP PEER mappings); the other fields unused.</summary>
        public List<OutboundFlow>? Outbound { get; init; }

        /// <summary>Whether this is a cleanup by tunnel address (<see cref="ReapAddresses"/>), not by destination.</summary>
        public bool ByAddress => Involving || Outbound is not null;
    }
}
