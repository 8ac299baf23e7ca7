using System.Buffers;
using System.Net;

namespace Portcullis.PortMapping.Server;

// Why threads: the policy layer answers a request only once its change is in the kernel, and it batches concurrent
// requests into one kernel transaction. Handling datagrams one at a time on the receive loop would leave it nothing
// to batch and hold every client behind the slowest answer. So:
//  1. the receive loop posts each datagram (copied into a pooled buffer) under its client's address and goes back to
//     receiving
//  2. a client with no request in hand goes to the ready queue; one with a request in hand keeps the new one in its
//     backlog (bounded; past it the datagram is dropped and counted, as a flood from one client must not grow memory)
//  3. a worker takes a ready client, handles its request, then its backlog in order, then lets the client go idle
// So requests from different clients reach the policy layer at once, a client's own one after another, in order.
// Nothing is allocated per datagram once the pools have grown to the load: buffers and backlog queues come back to
// free lists under the same lock the hand-over takes anyway.

/// <summary>
/// A fixed set of worker threads handling datagrams: concurrently across clients, in arrival order per client.
/// Blocking threads, not tasks: a handler waits for the kernel, and a thread-pool thread blocked on that would starve
/// the pool under a burst. Thread-safe.
/// </summary>
internal sealed class RequestWorkers : IDisposable
{
    /// <summary>Datagrams a client may have waiting behind the one being handled.</summary>
    public const int MaxBacklogPerClient = 16;

    /// <summary>A pooled buffer's size: the largest request either protocol allows (PCP's 1100 bytes), rounded up.</summary>
    private const int BufferSize = 1104;

    /// <summary>Free buffers and queues kept past a burst; more are dropped for the GC to take.</summary>
    private const int MaxFree = 256;

    private readonly object _gate = new(); // Monitor.Wait needs a monitor, not a Lock
    private readonly Dictionary<IPAddress, Queue<Work>> _inHand = [];
    private readonly Queue<Work> _ready = new();
    private readonly Stack<byte[]> _freeBuffers = new();
    private readonly Stack<Queue<Work>> _freeBacklogs = new();
    private readonly Thread[] _threads;
    private readonly Action<Work, byte[]> _handle;
    private bool _stopping;

    /// <param name="count">Worker threads: the most requests handled at once.</param>
    /// <param name="responseSize">Each worker's response buffer size.</param>
    /// <param name="handle">Handles one datagram with the worker's response buffer (answers it, counts it); must not throw.</param>
    public RequestWorkers(int count, int responseSize, Action<Work, byte[]> handle)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        _handle = handle;
        _threads = new Thread[count];
        for (var i = 0; i < count; i++)
        {
            _threads[i] = new Thread(() => Run(new byte[responseSize]))
            {
                IsBackground = true,
                Name = "pcp-worker",
            };
            _threads[i].Start();
        }
    }

    /// <summary>One datagram (in a pooled buffer, the workers' until handled) and where it came from.</summary>
    public readonly record struct Work(IPAddress Client, IPEndPoint Source, byte[] Buffer, int Length)
    {
        public ReadOnlySpan<byte> Datagram => Buffer.AsSpan(0, Length);
    }

    /// <summary>Queues a datagram from <paramref name="client"/>; false (dropped) when its backlog is full or workers stop.</summary>
    public bool TryPost(IPAddress client, IPEndPoint source, ReadOnlySpan<byte> datagram)
    {
        lock (_gate)
        {
            if (_stopping)
                return false;
            if (_inHand.TryGetValue(client, out var backlog))
            {
                if (backlog.Count >= MaxBacklogPerClient)
                    return false;
                backlog.Enqueue(Copy(client, source, datagram));
                return true;
            }
            _inHand.Add(client, _freeBacklogs.TryPop(out var idle) ? idle : new Queue<Work>(MaxBacklogPerClient));
            _ready.Enqueue(Copy(client, source, datagram));
            Monitor.Pulse(_gate);
            return true;
        }
    }

    // Under _gate. A datagram longer than any request (malformed, judged by the dispatcher all the same) borrows from
    // the shared pool instead.
    private Work Copy(IPAddress client, IPEndPoint source, ReadOnlySpan<byte> datagram)
    {
        var buffer = datagram.Length > BufferSize ? ArrayPool<byte>.Shared.Rent(datagram.Length)
            : _freeBuffers.TryPop(out var free) ? free : new byte[BufferSize];
        datagram.CopyTo(buffer);
        return new Work(client, source, buffer, datagram.Length);
    }

    // Under _gate.
    private void Release(Work work)
    {
        if (work.Buffer.Length != BufferSize)
            ArrayPool<byte>.Shared.Return(work.Buffer);
        else if (_freeBuffers.Count < MaxFree)
            _freeBuffers.Push(work.Buffer);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_stopping)
                return;
            _stopping = true;
            Monitor.PulseAll(_gate);
        }
        foreach (var thread in _threads)
        {
            if (thread != Thread.CurrentThread)
                thread.Join(TimeSpan.FromSeconds(10));
        }
    }

    private void Run(byte[] response)
    {
        while (true)
        {
            Work work;
            lock (_gate)
            {
                while (_ready.Count == 0 && !_stopping)
                    Monitor.Wait(_gate);
                if (_stopping)
                    return;
                work = _ready.Dequeue();
            }
            // The client stays ours until its backlog is empty: its requests are handled in order, by one thread.
            var client = work.Client;
            var more = true;
            while (more)
            {
                _handle(work, response);
                lock (_gate)
                {
                    Release(work);
                    var backlog = _inHand[client];
                    if (_stopping || !backlog.TryDequeue(out work))
                    {
                        _inHand.Remove(client);
                        backlog.Clear();
                        if (_freeBacklogs.Count < MaxFree)
                            _freeBacklogs.Push(backlog);
                        more = false;
                    }
                }
            }
        }
    }
}
