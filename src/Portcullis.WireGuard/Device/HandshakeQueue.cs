using System.Runtime.InteropServices;
using Portcullis.Core.Io;
using Portcullis.WireGuard.Messages;

namespace Portcullis.WireGuard.Device;

/// <summary>A handshake message waiting for the handshake worker, with where it came from.</summary>
internal sealed class HandshakeWork
{
    public readonly byte[] Message = new byte[MessageType.InitiationSize];
    public int Length;
    public UdpEndpoint Source;
    public UInt128 SourceKey;
}

internal enum HandshakeAdmission
{
    Added,

    /// <summary>The queue was full: the oldest message of a source holding more messages than this one's made room.</summary>
    AddedInPlaceOfAnother,

    /// <summary>The queue was full of sources holding no more than this one's (or it is closed): dropped.</summary>
    Refused,
}

/// <summary>
/// The bounded queue between the UDP receiver and the handshake worker, fair between sources: when it is full, a new
/// message takes the place of the oldest one (among the first <see cref="EvictionScan"/>) whose source has at least
/// two messages more queued than the new one's source. A flood from fewer addresses than the queue holds therefore
/// fills the queue with its own messages but cannot keep out a source that sends one message now and then — a
/// legitimate peer's initiation gets in, ahead of the flood's older messages — and a source's only queued message is
/// never displaced. A flood from more addresses than that (spoofed) has nothing to give up: the newest is refused, as
/// in wireguard-go. Sources are counted by address (IPv4, or IPv6 /64), ports ignored.
/// One consumer takes batches; any thread may add. Allocates nothing after construction.
/// </summary>
internal sealed class HandshakeQueue
{
    /// <summary>
    /// How many of the oldest messages a full queue looks at for one to give up: few, since this runs on the receive
    /// thread for every message of a flood, and under a flood the oldest messages are the flood's.
    /// </summary>
    public const int EvictionScan = 8;

    private static readonly UInt128 IPv6Slash64 = UInt128.MaxValue << 64;

    private readonly object _gate = new();
    private readonly HandshakeWork[] _ring;
    private readonly Stack<HandshakeWork> _free;
    private readonly Dictionary<UInt128, int> _queuedBySource;
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
        // Sized for one source per queued message, so it never grows.
        _queuedBySource = new Dictionary<UInt128, int>(capacity);
        MaxBatch = maxBatch;
    }

    public int Capacity => _ring.Length;

    public int MaxBatch { get; }

    public int Count
    {
        get { lock (_gate) return _count; }
    }

    /// <summary>Copies <paramref name="message"/> in; <paramref name="queued"/> is the count afterwards.</summary>
    public HandshakeAdmission TryAdd(ReadOnlySpan<byte> message, UdpEndpoint source, out int queued)
    {
        var key = source.IsIPv4 ? source.Address : source.Address & IPv6Slash64;
        lock (_gate)
        {
            queued = _count;
            if (_closed)
                return HandshakeAdmission.Refused;
            if (_count < _ring.Length)
            {
                var work = _free.Pop();
                Fill(work, message, source, key);
                _ring[(_head + _count) % _ring.Length] = work;
                _count++;
                queued = _count;
                CountSource(key, +1);
                if (_consumerWaiting)
                    Monitor.Pulse(_gate);
                return HandshakeAdmission.Added;
            }

            _queuedBySource.TryGetValue(key, out var mine);
            var scan = Math.Min(_count, EvictionScan);
            for (var i = 0; i < scan; i++)
            {
                var victim = _ring[(_head + i) % _ring.Length];
                // Strictly more than one message beyond ours: a source's only message is never displaced, and sources
                // a message apart (a flood's own) do not churn.
                if (victim.SourceKey == key || _queuedBySource[victim.SourceKey] <= mine + 1)
                    continue;
                CountSource(victim.SourceKey, -1);
                Fill(victim, message, source, key);
                CountSource(key, +1);
                return HandshakeAdmission.AddedInPlaceOfAnother;
            }
            return HandshakeAdmission.Refused;
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
                CountSource(work.SourceKey, -1);
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

    private static void Fill(HandshakeWork work, ReadOnlySpan<byte> message, UdpEndpoint source, UInt128 key)
    {
        message.CopyTo(work.Message);
        work.Length = message.Length;
        work.Source = source;
        work.SourceKey = key;
    }

    private void CountSource(UInt128 key, int delta)
    {
        ref var queued = ref CollectionsMarshal.GetValueRefOrAddDefault(_queuedBySource, key, out _);
        queued += delta;
        if (queued == 0)
            _queuedBySource.Remove(key);
    }
}
