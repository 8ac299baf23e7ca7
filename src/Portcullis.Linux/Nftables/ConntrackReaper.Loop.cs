using Portcullis.Linux.Interop;

namespace Portcullis.Linux.Nftables;

// The reaper's thread: take the queue, catch up with the events, end the queued destinations' flows, sleep.
public sealed unsafe partial class ConntrackReaper
{
    private readonly ConntrackEvent[] _eventBuffer = new ConntrackEvent[1024];
    private readonly List<TrackedFlow> _doomed = [];

    private void Run()
    {
        try
        {
            Loop();
        }
        catch (ObjectDisposedException)
        {
            // Dispose gave up waiting (a kernel call hung for seconds) and closed the sockets under us: nothing to do.
        }
    }

    private void Loop()
    {
        if (_events is not null)
            Rebuild(overrun: false);
        var work = new List<Work>();
        while (true)
        {
            long upTo;
            bool stopping;
            (UInt128, int)? routed;
            (UInt128, int)[] tunnel;
            lock (_gate)
            {
                tunnel = _tunnel;
                (work, _pending) = (_pending, work);
                _inFlight = work;
                upTo = _posted;
                stopping = _stopping;
                routed = _routed;
            }
            if (_index.Routed != routed)
            {
                // Flows to the prefix were not held until now (or are no longer mappings'): read them from the table.
                _index.Routed = routed;
                if (_events is not null)
                    Rebuild(overrun: false);
            }
            if (!_index.ByAddress.Prefixes.SequenceEqual(tunnel))
            {
                // Tunnel addresses' flows were not held until now: read them from the table.
                _index.ByAddress.Prefixes = tunnel;
                if (_events is not null)
                    Rebuild(overrun: false);
            }
            // After taking the queue: each queued cleanup was posted after its commit, so these reads see every flow
            // the old mapping let in.
            if (_events is not null)
                CatchUp();
            if (work.Count > 0)
            {
                ReapAddresses(work);
                if (work.Count > 0)
                    Reap(work);
            }
            EndLateFlows();
            lock (_gate)
            {
                work.Clear();
                _inFlight = null;
                _done = upTo;
                if (_reopened.Count > 0)
                {
                    foreach (var (target, at) in _reopened)
                    {
                        if (at <= upTo)
                            _reopened.Remove(target);
                    }
                }
                Monitor.PulseAll(_gate);
            }
            if (stopping)
                return;
            Sleep();
        }
    }

    // Reads every event waiting; rebuilds the index once from a dump if some were lost.
    private void CatchUp()
    {
        var rebuilt = false;
        while (true)
        {
            ConntrackEventsRead read;
            try
            {
                read = _events!.Read(_eventBuffer);
            }
            catch (LinuxCallException e)
            {
                _indexValid = false;
                _log.RebuildFailed(e.Message);
                return;
            }
            for (var i = 0; i < read.Count; i++)
            {
                ref readonly var happened = ref _eventBuffer[i];
                _index.Apply(happened);
                if (happened.Kind == ConntrackEventKind.New && _index.Holds(happened.Flow) && IsGuarded(happened.Flow))
                    _doomed.Add(happened.Flow);
            }
            if (read.Overrun)
            {
                if (rebuilt)
                {
                    _indexValid = false; // overran again while rebuilding: this round's cleanups go by dump
                    return;
                }
                Rebuild(overrun: true);
                rebuilt = true;
                continue;
            }
            if (read.Count == 0)
                return;
        }
    }

    private void Rebuild(bool overrun)
    {
        _index.Clear();
        try
        {
            _conntrack.DumpInto(_index);
            _indexValid = true;
            if (overrun)
                _log.EventsOverrun(_index.Count);
        }
        catch (LinuxCallException e)
        {
            _indexValid = false;
            _log.RebuildFailed(e.Message);
        }
    }

    private void Reap(List<Work> work)
    {
        lock (_gate)
        {
            // A mapping that came back after its cleanup was queued keeps its flows (Reopen).
            if (_reopened.Count > 0)
            {
                foreach (var item in work)
                    item.Targets?.RemoveAll(t => _reopened.TryGetValue(t, out var at) && at >= item.Sequence);
            }
        }
        var byDump = _events is null || !_indexValid;
        var destinations = 0;
        try
        {
            if (byDump)
            {
                var flows = 0;
                var v6 = false;
                foreach (var item in work)
                {
                    var all = item.Destinations is null
                        ? FlowAddress.IsV4(item.Address) ? AllPorts(item.Address, item.Keep!) : []
                        : Remaining(item);
                    destinations += all.Count;
                    flows += _conntrack.Delete(all);
                    v6 |= item.Targets is null ? !FlowAddress.IsV4(item.Address) : item.Targets.Exists(t => !FlowAddress.IsV4(t.Key.Address));
                }
                if (v6)
                    flows += EndV6ByDump(work, ref destinations);
                Interlocked.Add(ref _deleted, flows);
                _log.Ended(destinations, flows, byDump: true);
                if (_events is not null)
                    Rebuild(overrun: false); // try to get back onto the index for the next cleanup
                return;
            }
            var deadline = _time.GetTimestamp() + (long)(Guard.TotalSeconds * _time.TimestampFrequency);
            lock (_gate)
            {
                foreach (var item in work)
                {
                    foreach (var target in item.Targets ?? [])
                        _guarded[target.Key] = (target, deadline);
                }
            }
            foreach (var item in work)
            {
                if (item.Targets is { } targets)
                {
                    destinations += targets.Count;
                    foreach (var target in targets)
                        _index.Take(target, _doomed);
                }
                else
                {
                    destinations++;
                    _index.TakeAddress(item.Address, item.Keep!.Contains, _doomed);
                }
            }
            var deleted = _doomed.Count == 0 ? 0 : _conntrack.DeleteExact(_doomed);
            _doomed.Clear();
            Interlocked.Add(ref _deleted, deleted);
            _log.Ended(destinations, deleted, byDump: false);
        }
        catch (Exception e) when (e is LinuxCallException or ObjectDisposedException)
        {
            // The map is committed whatever happens here; these flows end when conntrack times them out.
            _doomed.Clear();
            _log.Failed(e.Message);
        }
    }

    // Flows confirmed for a destination just cleaned (met the old map in flight): ended as they show up.
    private void EndLateFlows()
    {
        if (_doomed.Count == 0)
            return;
        try
        {
            Interlocked.Add(ref _deleted, _conntrack.DeleteExact(_doomed));
        }
        catch (LinuxCallException e)
        {
            _log.Failed(e.Message);
        }
        _doomed.Clear();
    }

    private bool IsGuarded(in TrackedFlow flow)
    {
        lock (_gate)
        {
            if (!_guarded.TryGetValue(flow.Key, out var guard))
                return false;
            if (_time.GetTimestamp() >= guard.Deadline)
            {
                _guarded.Remove(flow.Key);
                return false;
            }
            return guard.Mapping.Carried(flow);
        }
    }

    // Until an event or a wake-up arrives.
    private void Sleep()
    {
        var fds = stackalloc PollFd[2];
        fds[0] = new PollFd { Fd = _wakeFd, Events = PollIn };
        fds[1] = new PollFd { Fd = _events?.Fd ?? -1, Events = PollIn }; // a negative fd is ignored by poll
        while (Libc.Poll(fds, 2, -1) < 0 && Errno.Last == Errno.EINTR)
        {
        }
        if (fds[0].ReturnedEvents != 0)
        {
            ulong value;
            _ = Libc.Read(_wakeFd, (byte*)&value, sizeof(ulong));
        }
    }
}
