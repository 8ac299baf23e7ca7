using System.Net;

namespace Portcullis.PortMapping.Server;

// Why threads: the policy layer answers a request only once its change is in the kernel, and it batches concurrent
// requests into one kernel transaction. Handling datagrams one at a time on the receive loop would leave it nothing
// to batch and hold every client behind the slowest answer. So:
//  1. the receive loop posts each datagram (copied) under its client's address and goes back to receiving
//  2. a client with no request in hand goes to the ready queue; one with a request in hand keeps the new one in its
//     backlog (bounded; past it the datagram is dropped and counted, as a flood from one client must not grow memory)
//  3. a worker takes a ready client, handles its request, then its backlog in order, then lets the client go idle
// So requests from different clients reach the policy layer at once, a client's own one after another, in order.

/// <summary>
/// A fixed set of worker threads handling datagrams: concurrently across clients, in arrival order per client.
/// Blocking threads, not tasks: a handler waits for the kernel, and a thread-pool thread blocked on that would starve
/// the pool under a burst. Thread-safe.
/// </summary>
internal sealed class RequestWorkers : IDisposable
{
    /// <summary>Datagrams a client may have waiting behind the one being handled.</summary>
    public const int MaxBacklogPerClient = 16;

    private readonly object _gate = new(); // Monitor.Wait needs a monitor, not a Lock
    private readonly Dictionary<IPAddress, Queue<Work>> _inHand = [];
    private readonly Queue<Work> _ready = new();
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

    /// <summary>One datagram and where it came from.</summary>
    public sealed record Work(IPAddress Client, IPEndPoint Source, byte[] Datagram);

    /// <summary>Queues a datagram from <paramref name="client"/>; false (dropped) when its backlog is full or workers stop.</summary>
    public bool TryPost(IPAddress client, IPEndPoint source, ReadOnlySpan<byte> datagram)
    {
        var work = new Work(client, source, datagram.ToArray());
        lock (_gate)
        {
            if (_stopping)
                return false;
            if (_inHand.TryGetValue(client, out var backlog))
            {
                if (backlog.Count >= MaxBacklogPerClient)
                    return false;
                backlog.Enqueue(work);
                return true;
            }
            _inHand.Add(client, new Queue<Work>());
            _ready.Enqueue(work);
            Monitor.Pulse(_gate);
            return true;
        }
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
            Work? work;
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
            while (work is not null)
            {
                _handle(work, response);
                lock (_gate)
                {
                    var backlog = _inHand[client];
                    if (_stopping || !backlog.TryDequeue(out work))
                    {
                        _inHand.Remove(client);
                        work = null;
                    }
                }
            }
        }
    }
}
