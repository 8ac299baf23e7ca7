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

    private readonly object gate = new();
    private readonly HandshakeWork[] ring;
    private readonly Stack<HandshakeWork> free;
    private readonly Dictionary<UInt128, int> queuedBySource;
    private int head;
    private int count;
    private bool consumerWaiting;
    private bool closed;

    /// <param name="capacity">Messages held at most.</param>
    /// <param name="maxBatch">The largest batch the consumer takes at once (it holds those while processing).</param>
    public HandshakeQueue(int capacity, int maxBatch)
    {
        ring = new HandshakeWork[capacity];
        free = new Stack<HandshakeWork>(capacity + maxBatch);
        for (var i = 0; i < capacity + maxBatch; i++)
            free.Push(new HandshakeWork());
        // Sized for one source per queued message, so it never grows.
        queuedBySource = new Dictionary<UInt128, int>(capacity);
        MaxBatch = maxBatch;
    }

    public int Capacity => ring.Length;

    public int MaxBatch { get; }

    public int Count
    {
        get { lock (gate) return count; }
    }

    /// <summary>Copies <paramref name="message"/> in; <paramref name="queued"/> is the count afterwards.</summary>
    public HandshakeAdmission TryAdd(ReadOnlySpan<byte> message, UdpEndpoint source, out int queued)
    {
        var key = source.IsIPv4 ? source.Address : source.Address & IPv6Slash64;
        lock (gate)
        {
            queued = count;
            if (closed)
                return HandshakeAdmission.Refused;
            if (count < ring.Length)
            {
                var work = free.Pop();
                Fill(work, message, source, key);
                ring[(head + count) % ring.Length] = work;
                count++;
                queued = count;
                CountSource(key, +1);
                if (consumerWaiting)
                    Monitor.Pulse(gate);
                return HandshakeAdmission.Added;
            }

            queuedBySource.TryGetValue(key, out var mine);
            var scan = Math.Min(count, EvictionScan);
            for (var i = 0; i < scan; i++)
            {
                var victim = ring[(head + i) % ring.Length];
                // Strictly more than one message beyond ours: a source's only message is never displaced, and sources
                // a message apart (a flood's own) do not churn.
                if (victim.SourceKey == key || queuedBySource[victim.SourceKey] <= mine + 1)
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
        lock (gate)
        {
            while (count == 0 && !closed)
            {
                consumerWaiting = true;
                Monitor.Wait(gate);
                consumerWaiting = false;
            }
            var n = Math.Min(Math.Min(count, batch.Length), MaxBatch);
            for (var i = 0; i < n; i++)
            {
                var work = ring[head];
                ring[head] = null!;
                head = (head + 1) % ring.Length;
                CountSource(work.SourceKey, -1);
                batch[i] = work;
            }
            count -= n;
            return n;
        }
    }

    public void Return(ReadOnlySpan<HandshakeWork> batch)
    {
        lock (gate)
        {
            foreach (var work in batch)
                free.Push(work);
        }
    }

    /// <summary>Refuses further messages and wakes the consumer, which drains what is left.</summary>
    public void Close()
    {
        lock (gate)
        {
            closed = true;
            Monitor.PulseAll(gate);
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
        ref var queued = ref CollectionsMarshal.GetValueRefOrAddDefault(queuedBySource, key, out _);
        queued += delta;
        if (queued == 0)
            queuedBySource.Remove(key);
    }
}
