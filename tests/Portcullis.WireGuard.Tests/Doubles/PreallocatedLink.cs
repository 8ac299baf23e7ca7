using Portcullis.Core.Io;

namespace Portcullis.WireGuard.Tests.Doubles;

/// <summary>
/// Allocation-free doubles for measuring the device's own allocations: a TUN that replays one packet a given number
/// of times and counts what is written to it, and a pair of binds joined by preallocated rings. Unlike
/// InMemoryTun/InMemoryNetwork they never allocate per packet, so whatever the process allocates while packets flow
/// is the device's.
/// </summary>
internal sealed class ReplayingTun(string name, byte[] packet) : ITun
{
    private readonly object gate = new();
    private long toProduce;
    private long written;
    private bool closed;

    public string Name { get; } = name;
    public int Mtu => 1420;
    public long Written => Interlocked.Read(ref written);

    public void Produce(long count)
    {
        lock (gate)
        {
            toProduce += count;
            Monitor.PulseAll(gate);
        }
    }

    public int Read(Span<ArraySegment<byte>> packets)
    {
        lock (gate)
        {
            while (toProduce == 0 && !closed)
                Monitor.Wait(gate);
            if (closed)
                return IoResult.Closed;
            var n = (int)Math.Min(Math.Min(toProduce, packets.Length), 16);
            for (var i = 0; i < n; i++)
            {
                packet.CopyTo(packets[i].Array!, packets[i].Offset);
                packets[i] = new ArraySegment<byte>(packets[i].Array!, packets[i].Offset, packet.Length);
            }
            toProduce -= n;
            return n;
        }
    }

    public int Write(ReadOnlySpan<ArraySegment<byte>> packets)
    {
        Interlocked.Add(ref written, packets.Length);
        return packets.Length;
    }

    public void Dispose()
    {
        lock (gate)
        {
            closed = true;
            Monitor.PulseAll(gate);
        }
    }
}

internal sealed class RingBind : IBind, IBindFactory
{
    private const int Slots = 4096;
    private readonly byte[][] buffers = new byte[Slots][];
    private readonly int[] lengths = new int[Slots];
    private readonly object gate = new();
    private int head;
    private int count;
    private bool closed;

    public RingBind(UdpEndpoint local)
    {
        Local = local;
        for (var i = 0; i < Slots; i++)
            buffers[i] = new byte[2048];
    }

    public UdpEndpoint Local { get; }
    public RingBind? Peer { get; set; }
    public ushort Port => Local.Port;

    public IBind Open(ushort port, uint mark) => this;

    public int Receive(Span<ArraySegment<byte>> packets, Span<UdpEndpoint> sources)
    {
        lock (gate)
        {
            while (count == 0 && !closed)
                Monitor.Wait(gate);
            if (closed)
                return IoResult.Closed;
            var n = Math.Min(count, packets.Length);
            for (var i = 0; i < n; i++)
            {
                var slot = (head + i) % Slots;
                buffers[slot].AsSpan(0, lengths[slot]).CopyTo(packets[i].AsSpan());
                packets[i] = new ArraySegment<byte>(packets[i].Array!, packets[i].Offset, lengths[slot]);
                sources[i] = Peer!.Local;
            }
            head = (head + n) % Slots;
            count -= n;
            Monitor.PulseAll(gate);
            return n;
        }
    }

    public int Send(ReadOnlySpan<ArraySegment<byte>> packets, UdpEndpoint destination)
    {
        var to = Peer!;
        lock (to.gate)
        {
            foreach (var p in packets)
            {
                while (to.count == Slots && !to.closed)
                    Monitor.Wait(to.gate);
                if (to.closed)
                    return 0;
                var slot = (to.head + to.count) % Slots;
                p.AsSpan().CopyTo(to.buffers[slot]);
                to.lengths[slot] = p.Count;
                to.count++;
            }
            Monitor.PulseAll(to.gate);
        }
        return packets.Length;
    }

    public void SetMark(uint mark)
    {
    }

    public void Dispose()
    {
        lock (gate)
        {
            closed = true;
            Monitor.PulseAll(gate);
        }
    }
}
