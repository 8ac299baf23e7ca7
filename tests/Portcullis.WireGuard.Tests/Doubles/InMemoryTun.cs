using System.Collections.Concurrent;
using Portcullis.Core.Io;

namespace Portcullis.WireGuard.Tests.Doubles;

/// <summary>
/// A TUN device in memory (as wireguard-go's tuntest): the test plays the kernel, injecting packets the device
/// reads and collecting the packets the device writes.
/// </summary>
internal sealed class InMemoryTun(string name, int mtu = 1420) : ITun
{
    private readonly BlockingCollection<byte[]> toDevice = [];
    private readonly BlockingCollection<byte[]> fromDevice = [];
    private readonly CancellationTokenSource closed = new();

    public string Name { get; } = name;
    public int Mtu { get; } = mtu;

    /// <summary>The "kernel" routes a packet into the tunnel.</summary>
    public void Inject(byte[] packet) => toDevice.Add(packet);

    /// <summary>A packet the device delivered to the "kernel", or null after the timeout.</summary>
    public byte[]? Receive(TimeSpan timeout) => fromDevice.TryTake(out var p, timeout) ? p : null;

    public int Read(Span<ArraySegment<byte>> packets)
    {
        byte[] first;
        try
        {
            first = toDevice.Take(closed.Token);
        }
        catch (OperationCanceledException)
        {
            return 0;
        }
        var n = 0;
        var next = first;
        do
        {
            var segment = packets[n];
            next.CopyTo(segment.Array!, segment.Offset);
            packets[n] = new ArraySegment<byte>(segment.Array!, segment.Offset, next.Length);
            n++;
        }
        while (n < packets.Length && toDevice.TryTake(out next!));
        return n;
    }

    public int Write(ReadOnlySpan<ArraySegment<byte>> packets)
    {
        ObjectDisposedException.ThrowIf(closed.IsCancellationRequested, this);
        foreach (var p in packets)
            fromDevice.Add(p.AsSpan().ToArray());
        return packets.Length;
    }

    public void Dispose() => closed.Cancel();
}
