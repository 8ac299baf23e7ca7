using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace Portcullis.Gateway.Forwarding;

// Group commit: concurrent callers' requests share one kernel transaction, and every caller still returns only once
// its own request was decided and, if it changed anything, the kernel took that change.
//  1. Submit queues the request; a caller that finds no leader becomes it, every other caller waits on its slot
//  2. the leader takes a batch from the head of the queue: at most MaxBatch requests and at most one per key (a
//     client's own requests stay in order: a later one waits for the next batch); with the previous batch larger
//     than one and the previous run dearer than MaxWait, it first waits up to MaxWait, spinning, for the batch to fill
//  3. the batch runs (ForwardingService: decide each, one table update, commit — or each alone when it fails)
//  4. the leader hands leadership to the head of the queue, if any, then wakes the batch's callers
// No thread of its own, no timer: with one caller at a time, Submit runs the request on the caller's thread at once.

/// <summary>
/// Batches concurrent requests into one run of a batch handler, answering each caller with its own result. Requests
/// with the same key never share a batch and run in the order submitted. Thread-safe.
/// </summary>
internal sealed class GroupCommitter<TRequest, TResult>
    where TResult : class
{
    private readonly Action<IReadOnlyList<Slot>> _run;
    private readonly int _maxBatch;
    private readonly long _maxWaitTicks;
    private readonly Lock _gate = new();
    private readonly List<Slot> _queue = [];
    private readonly HashSet<object> _batchKeys = []; // under _gate: the keys of the batch being taken
    private readonly Stack<List<Slot>> _freeBatches = new(); // under _gate: batch lists to reuse
    private bool _leading;
    private int _lastBatchSize;
    private long _lastRunTicks;
    private long _batches;
    private long _requests;

    /// <param name="run">Runs one batch: sets <see cref="Slot.Result"/> or <see cref="Slot.Error"/> of every slot. What it throws becomes the error of every slot it left without either.</param>
    /// <param name="maxBatch">The most requests one run takes.</param>
    /// <param name="maxWait">How long a leader waits for a batch to fill under load; zero takes what is queued.</param>
    public GroupCommitter(Action<IReadOnlyList<Slot>> run, int maxBatch, TimeSpan maxWait)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBatch);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxWait, TimeSpan.Zero);
        _run = run;
        _maxBatch = maxBatch;
        _maxWaitTicks = (long)(maxWait.TotalSeconds * Stopwatch.Frequency);
    }

    /// <summary>How many batch runs so far, and how many requests they held (for tests and metrics).</summary>
    public (long Batches, long Requests) Totals
    {
        get
        {
            lock (_gate)
                return (_batches, _requests);
        }
    }

    /// <summary>Requests waiting for a batch now (not counting a running one's).</summary>
    public int Queued
    {
        get
        {
            lock (_gate)
                return _queue.Count;
        }
    }

    /// <summary>Queues the request and returns its result once a batch holding it has run.</summary>
    public TResult Submit(TRequest request, object key)
    {
        var slot = new Slot(request, key);
        bool lead;
        lock (_gate)
        {
            _queue.Add(slot);
            lead = !_leading;
            _leading = true;
        }
        if (!lead)
            slot.Wait();
        // Leader: our slot is the head of the queue (the idle queue is empty; a handoff goes to the head).
        if (!slot.IsDone)
            Lead();
        if (slot.Error is { } error)
            ExceptionDispatchInfo.Throw(error);
        return slot.Result!;
    }

    private void Lead()
    {
        WaitForBatch();
        List<Slot> batch;
        lock (_gate)
        {
            // A list of an earlier batch whose callers are all answered: a batch costs no allocation once warm.
            batch = _freeBatches.TryPop(out var free) ? free : [];
            for (var i = 0; i < _queue.Count && batch.Count < _maxBatch; i++)
            {
                var slot = _queue[i];
                // A key already in the batch holds back its later requests (and their order) for the next one.
                if (_batchKeys.Add(slot.Key))
                    batch.Add(slot);
            }
            _batchKeys.Clear();
            if (batch.Count == _queue.Count)
                _queue.Clear();
            else
            {
                foreach (var slot in batch)
                    _queue.Remove(slot);
            }
            _lastBatchSize = batch.Count;
            _batches++;
            _requests += batch.Count;
        }

        var started = Stopwatch.GetTimestamp();
        try
        {
            _run(batch);
        }
        catch (Exception e)
        {
            foreach (var slot in batch)
            {
                if (slot.Result is null && slot.Error is null)
                    slot.Error = e;
            }
        }
        finally
        {
            // Whatever happened, the queue moves on and every caller of the batch returns.
            Slot? next = null;
            lock (_gate)
            {
                _lastRunTicks = Stopwatch.GetTimestamp() - started;
                if (_queue.Count > 0)
                    next = _queue[0];
                else
                    _leading = false;
            }
            next?.Lead();
            foreach (var slot in batch)
                slot.Complete();
            // The next leader may be taking its batch meanwhile; this list goes back only now, its callers answered.
            batch.Clear();
            lock (_gate)
            {
                if (_freeBatches.Count < 4)
                    _freeBatches.Push(batch);
            }
        }
    }

    // Under load (the last batch held more than one request) a short bounded spin lets a batch fill: one run for many
    // requests costs about what one costs alone. It pays only while a run costs more than the wait (a request would
    // otherwise wait longer than the run it saves: a 20 µs kernel update against a 50 µs wait), and it never yields
    // the core: on a busy machine a yield hands it to another thread for that thread's whole timeslice — milliseconds
    // with the batch's callers all waiting. Idle, a request goes at once.
    private void WaitForBatch()
    {
        if (_maxWaitTicks == 0)
            return;
        lock (_gate)
        {
            if (_lastBatchSize <= 1 || _lastRunTicks < _maxWaitTicks || _queue.Count >= _maxBatch)
                return;
        }
        var deadline = Stopwatch.GetTimestamp() + _maxWaitTicks;
        while (Stopwatch.GetTimestamp() < deadline)
        {
            lock (_gate)
            {
                if (_queue.Count >= _maxBatch)
                    return;
            }
            Thread.SpinWait(20);
        }
    }

    /// <summary>One caller's request, its key and, once its batch ran, its result.</summary>
    public sealed class Slot(TRequest request, object key)
    {
        private const int Waiting = 0, Leading = 1, Done = 2;
        private readonly object _sync = new(); // Monitor.Wait needs a monitor, not a Lock
        private volatile int _state;

        public TRequest Request { get; } = request;

        public object Key { get; } = key;

        public TResult? Result { get; set; }

        /// <summary>What deciding or applying this request threw; its caller gets it rethrown.</summary>
        public Exception? Error { get; set; }

        public bool IsDone => _state == Done;

        /// <summary>Returns once the slot is done or its caller is to lead: a short spin first, as a batch is short.</summary>
        internal void Wait()
        {
            var spin = new SpinWait();
            while (_state == Waiting && !spin.NextSpinWillYield)
                spin.SpinOnce();
            if (_state != Waiting)
                return;
            lock (_sync)
            {
                while (_state == Waiting)
                    Monitor.Wait(_sync);
            }
        }

        internal void Complete() => Signal(Done);

        internal void Lead() => Signal(Leading);

        private void Signal(int state)
        {
            lock (_sync)
            {
                _state = state;
                Monitor.PulseAll(_sync);
            }
        }
    }
}
