using Portcullis.Core.Io;
using Portcullis.WireGuard.Messages;

namespace Portcullis.WireGuard.Device;

/// <summary>A handshake message waiting for the handshake worker, with where it came from.</summary>
internal sealed class HandshakeWork
{
    public readonly byte[] Message = new byte[MessageType.InitiationSize];
    public int Length;
    public UdpEndpoint Source;

    // The queue's bookkeeping while the message is queued: its source, and its neighbours among that source's messages.
    internal HandshakeSource? Owner;
    internal HandshakeWork? OlderOfSource;
    internal HandshakeWork? NewerOfSource;
}

internal enum HandshakeAdmission
{
    Added,

    /// <summary>The queue was full: the oldest message of the source holding the most (two more than this one's) made room.</summary>
    AddedInPlaceOfAnother,

    /// <summary>The queue was full and no source held two messages more than this one's (or it is closed): dropped.</summary>
    Refused,
}

/// <summary>
/// The bounded queue between the UDP receiver and the handshake worker, fair between sources: when it is full, a new
/// message takes the place of the oldest message of the source holding the most, if that source holds at least two
/// messages more than the new one's. A flood from fewer addresses than the queue holds therefore fills the queue with
/// its own messages but cannot keep out a source that sends one message now and then — a legitimate peer's
/// initiation gets in, wherever in the queue the flood's messages sit — and a source's only queued message is never
/// displaced. A flood from more addresses than that (spoofed) has nothing to give up: the newest is refused, as in
/// wireguard-go. Sources are counted by address (IPv4, or IPv6 /64), ports ignored.
/// One consumer takes batches; any thread may add. Every operation is O(1) and allocates nothing after construction.
/// </summary>
internal sealed class HandshakeQueue
{
    private static readonly UInt128 IPv6Slash64 = UInt128.MaxValue << 64;

    private readonly object _gate = new();
    private readonly HandshakeWork[] _ring;
    private readonly Stack<HandshakeWork> _free;
    private readonly HandshakeSources _sources;
    private int _head;
    private int _count;
    private bool _consumerWaiting;
    private bool _closed;

    /// <param name="capacity">Messages held at most.</param>
    /// <param name="maxBatch">The largest batch the consumer takes at once (it holds those while processing).</param>
    public HandshakeQueue(int capacity, int maxBatch)
    {
        _ring = new HandshakeWork[capacity];
        _free = new Stack<HandshakeWork>(capacity + maxBatch);
        for (var i = 0; i < capacity + maxBatch; i++)
            _free.Push(new HandshakeWork());
        _sources = new HandshakeSources(capacity);
        MaxBatch = maxBatch;
    }

    public int Capacity => _ring.Length;

    public int MaxBatch { get; }

    public int Count
    {
        get { lock (_gate) return _count; }
    }

    /// <summary>Messages queued from <paramref name="source"/>'s address (or /64).</summary>
    public int QueuedFrom(UdpEndpoint source)
    {
        lock (_gate)
            return _sources.CountOf(KeyOf(source));
    }

    /// <summary>Copies <paramref name="message"/> in; <paramref name="queued"/> is the count afterwards.</summary>
    public HandshakeAdmission TryAdd(ReadOnlySpan<byte> message, UdpEndpoint source, out int queued)
    {
        var key = KeyOf(source);
        lock (_gate)
        {
            queued = _count;
            if (_closed)
                return HandshakeAdmission.Refused;
            if (_count < _ring.Length)
            {
                var work = _free.Pop();
                Fill(work, message, source);
                _sources.Append(key, work);
                _ring[(_head + _count) % _ring.Length] = work;
                _count++;
                queued = _count;
                if (_consumerWaiting)
                    Monitor.Pulse(_gate);
                return HandshakeAdmission.Added;
            }

            // Strictly more than one message beyond ours: a source's only message is never displaced, and sources a
            // message apart (a flood's own) do not churn. The victim keeps its place in the ring; only its content
            // and owner change.
            if (_sources.Heaviest is not { } heavy || heavy.Count < _sources.CountOf(key) + 2)
                return HandshakeAdmission.Refused;
            var victim = heavy.Oldest!;
            _sources.Remove(victim);
            Fill(victim, message, source);
            _sources.Append(key, victim);
            return HandshakeAdmission.AddedInPlaceOfAnother;
        }
    }

    /// <summary>
    /// Blocks while empty, then moves up to <c>batch.Length</c> (at most <see cref="MaxBatch"/>) messages into
    /// <paramref name="batch"/>, oldest first. 0 once closed and drained. Give them back with <see cref="Return"/>.
    /// </summary>
    public int TakeBatch(Span<HandshakeWork> batch)
    {
        lock (_gate)
        {
            while (_count == 0 && !_closed)
            {
                _consumerWaiting = true;
                Monitor.Wait(_gate);
                _consumerWaiting = false;
            }
            var n = Math.Min(Math.Min(_count, batch.Length), MaxBatch);
            for (var i = 0; i < n; i++)
            {
                var work = _ring[_head];
                _ring[_head] = null!;
                _head = (_head + 1) % _ring.Length;
                _sources.Remove(work);
                batch[i] = work;
            }
            _count -= n;
            return n;
        }
    }

    public void Return(ReadOnlySpan<HandshakeWork> batch)
    {
        lock (_gate)
        {
            foreach (var work in batch)
                _free.Push(work);
        }
    }

    /// <summary>Refuses further messages and wakes the consumer, which drains what is left.</summary>
    public void Close()
    {
        lock (_gate)
        {
            _closed = true;
            Monitor.PulseAll(_gate);
        }
    }

    private static UInt128 KeyOf(UdpEndpoint source) => source.IsIPv4 ? source.Address : source.Address & IPv6Slash64;

    private static void Fill(HandshakeWork work, ReadOnlySpan<byte> message, UdpEndpoint source)
    {
        message.CopyTo(work.Message);
        work.Length = message.Length;
        work.Source = source;
    }
}
