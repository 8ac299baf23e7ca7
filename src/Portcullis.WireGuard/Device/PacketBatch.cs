using Portcullis.Core.Io;

namespace Portcullis.WireGuard.Device;

/// <summary>
/// Up to <see cref="DeviceLimits.BatchSize"/> packets moving through a pipeline together, as parallel arrays so a
/// batch is reused forever without allocating. Buffers live on the pinned object heap so the native batched I/O
/// can take their addresses for free.
/// Outbound: plaintext at <see cref="DeviceLimits.HeaderRoom"/>, Lengths = plaintext length; after sealing the whole
/// message starts at 0 and Lengths = its size. Inbound: the datagram at 0, Lengths = its size; after opening the
/// plaintext is at 16 and Lengths = its size. A null keypair marks a packet to drop.
/// </summary>
internal sealed class PacketBatch : IDisposable
{
    private readonly ManualResetEventSlim processed = new(false);

    public PacketBatch(bool outbound)
    {
        Outbound = outbound;
        Buffers = new byte[DeviceLimits.BatchSize][];
        for (var i = 0; i < Buffers.Length; i++)
            Buffers[i] = GC.AllocateArray<byte>(DeviceLimits.BufferSize, pinned: true);
    }

    public bool Outbound { get; }
    public byte[][] Buffers { get; }
    public int[] Lengths { get; } = new int[DeviceLimits.BatchSize];
    public Peer?[] Peers { get; } = new Peer?[DeviceLimits.BatchSize];
    public Keypair?[] Keypairs { get; } = new Keypair?[DeviceLimits.BatchSize];
    public ulong[] Nonces { get; } = new ulong[DeviceLimits.BatchSize];
    public UdpEndpoint[] Endpoints { get; } = new UdpEndpoint[DeviceLimits.BatchSize];
    public int Count { get; set; }

    public void MarkProcessed() => processed.Set();

    public void WaitProcessed() => processed.Wait();

    /// <summary>Forgets references so retired keypairs and removed peers can be collected.</summary>
    public void Reset()
    {
        Array.Clear(Peers, 0, Count);
        Array.Clear(Keypairs, 0, Count);
        Count = 0;
        processed.Reset();
    }

    public void Dispose() => processed.Dispose();
}
