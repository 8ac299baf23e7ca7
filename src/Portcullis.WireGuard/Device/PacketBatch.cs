using Portcullis.Core.Io;

namespace Portcullis.WireGuard.Device;

/// <summary>
/// Up to <see cref="Capacity"/> packets moving through a pipeline together, as parallel arrays so a batch is reused
/// forever without allocating. <see cref="Packets"/> is the one record of where each packet is: the batched I/O
/// fills it in place (and may reorder its buffers, as a bind does when it drops a datagram), and every later stage
/// reads the packet from it, never from a copy of its own.
/// Outbound: plaintext at <see cref="DeviceLimits.HeaderRoom"/>; after sealing the whole message starts at 0.
/// Inbound: the datagram at 0; after opening the plaintext is at 16. A null keypair marks a packet to drop.
/// Buffers live on the pinned object heap so the native batched I/O can take their addresses for free; their size
/// follows the TUN's MTU (<see cref="Fit"/>), and fewer of them fit a batch when they are large.
/// </summary>
internal sealed class PacketBatch : IDisposable
{
    private readonly ManualResetEventSlim _processed = new(false);

    public PacketBatch(bool outbound, int bufferSize = DeviceLimits.MinBufferSize)
    {
        Outbound = outbound;
        Fit(bufferSize);
    }

    public bool Outbound { get; }

    /// <summary>Bytes in each buffer.</summary>
    public int BufferSize { get; private set; }

    /// <summary>Packets this batch holds at most (<see cref="DeviceLimits.SlotsFor"/> its buffer size).</summary>
    public int Capacity { get; private set; }

    /// <summary>Each slot's buffer, offset and length: the packet as the current stage sees it.</summary>
    public ArraySegment<byte>[] Packets { get; } = new ArraySegment<byte>[DeviceLimits.BatchSize];

    public Peer?[] Peers { get; } = new Peer?[DeviceLimits.BatchSize];
    public Keypair?[] Keypairs { get; } = new Keypair?[DeviceLimits.BatchSize];
    public ulong[] Nonces { get; } = new ulong[DeviceLimits.BatchSize];
    public UdpEndpoint[] Endpoints { get; } = new UdpEndpoint[DeviceLimits.BatchSize];
    public int Count { get; set; }

    /// <summary>
    /// Gives the batch buffers of <paramref name="bufferSize"/> bytes when it has others (the MTU changed). Only the
    /// stage that took the batch from its pool calls this, before filling it: nothing else holds the buffers then.
    /// Allocates only on a change, never per packet.
    /// </summary>
    public void Fit(int bufferSize)
    {
        if (bufferSize == BufferSize)
            return;
        BufferSize = bufferSize;
        Capacity = DeviceLimits.SlotsFor(bufferSize);
        for (var i = 0; i < Packets.Length; i++)
        {
            Packets[i] = i < Capacity
                ? new ArraySegment<byte>(GC.AllocateArray<byte>(bufferSize, pinned: true))
                : default;
        }
    }

    /// <summary>Sets every slot to the area from <paramref name="offset"/> to its buffer's end less <paramref name="reserve"/>: ready for a read.</summary>
    public void Open(int offset, int reserve)
    {
        for (var i = 0; i < Capacity; i++)
            Packets[i] = new ArraySegment<byte>(Packets[i].Array!, offset, BufferSize - offset - reserve);
    }

    /// <summary>Slot <paramref name="i"/>'s buffer from <paramref name="offset"/>, <paramref name="length"/> bytes long.</summary>
    public void Set(int i, int offset, int length) => Packets[i] = new ArraySegment<byte>(Packets[i].Array!, offset, length);

    public void MarkProcessed() => _processed.Set();

    public void WaitProcessed() => _processed.Wait();

    /// <summary>Forgets references so retired keypairs and removed peers can be collected.</summary>
    public void Reset()
    {
        Array.Clear(Peers, 0, Count);
        Array.Clear(Keypairs, 0, Count);
        Count = 0;
        _processed.Reset();
    }

    public void Dispose() => _processed.Dispose();
}
