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
    private readonly object _gate = new();
    private long _toProduce;
    private long _written;
    private bool _closed;

    public string Name { get; } = name;
    public int Mtu => 1420;
    public long Written => Interlocked.Read(ref _written);

    public void Produce(long count)
    {
        lock (_gate)
        {
            _toProduce += count;
            Monitor.PulseAll(_gate);
        }
    }

    public int Read(Span<ArraySegment<byte>> packets)
    {
        lock (_gate)
        {
            while (_toProduce == 0 && !_closed)
                Monitor.Wait(_gate);
            if (_closed)
                return IoResult.Closed;
            var n = (int)Math.Min(Math.Min(_toProduce, packets.Length), 16);
            for (var i = 0; i < n; i++)
            {
                packet.CopyTo(packets[i].Array!, packets[i].Offset);
                packets[i] = new ArraySegment<byte>(packets[i].Array!, packets[i].Offset, packet.Length);
            }
            _toProduce -= n;
            return n;
        }
    }

    public int Write(ReadOnlySpan<ArraySegment<byte>> packets)
    {
        Interlocked.Add(ref _written, packets.Length);
        return packets.Length;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _closed = true;
            Monitor.PulseAll(_gate);
        }
    }
}

internal sealed class RingBind : IBind, IBindFactory
{
    private const int Slots = 4096;
    private readonly byte[][] _buffers = new byte[Slots][];
    private readonly int[] _lengths = new int[Slots];
    private readonly object _gate = new();
    private int _head;
    private int _count;
    private bool _closed;

    public RingBind(UdpEndpoint local)
    {
        Local = local;
        for (var i = 0; i < Slots; i++)
            _buffers[i] = new byte[2048];
    }

    public UdpEndpoint Local { get; }
    public RingBind? Peer { get; set; }
    public ushort Port => Local.Port;

    public IBind Open(ushort port, uint mark) => this;

    public int Receive(Span<ArraySegment<byte>> packets, Span<UdpEndpoint> sources)
    {
        lock (_gate)
        {
            while (_count == 0 && !_closed)
                Monitor.Wait(_gate);
            if (_closed)
                return IoResult.Closed;
            var n = Math.Min(_count, packets.Length);
            for (var i = 0; i < n; i++)
            {
                var slot = (_head + i) % Slots;
                _buffers[slot].AsSpan(0, _lengths[slot]).CopyTo(packets[i].AsSpan());
                packets[i] = new ArraySegment<byte>(packets[i].Array!, packets[i].Offset, _lengths[slot]);
                sources[i] = Peer!.Local;
            }
            _head = (_head + n) % Slots;
            _count -= n;
            Monitor.PulseAll(_gate);
            return n;
        }
    }

    public int Send(ReadOnlySpan<ArraySegment<byte>> packets, UdpEndpoint destination)
    {
        var to = Peer!;
        lock (to._gate)
        {
            foreach (var p in packets)
            {
                while (to._count == Slots && !to._closed)
                    Monitor.Wait(to._gate);
                if (to._closed)
                    return 0;
                var slot = (to._head + to._count) % Slots;
                p.AsSpan().CopyTo(to._buffers[slot]);
                to._lengths[slot] = p.Count;
                to._count++;
            }
            Monitor.PulseAll(to._gate);
        }
        return packets.Length;
    }

    public void SetMark(uint mark)
    {
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _closed = true;
            Monitor.PulseAll(_gate);
        }
    }
}
