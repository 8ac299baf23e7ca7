using System.Collections.Concurrent;
using Portcullis.Core.Io;

namespace Portcullis.WireGuard.Tests.Doubles;

/// <summary>
/// A TUN device in memory (as wireguard-go's tuntest): the test plays the kernel, injecting packets the device
/// reads and collecting the packets the device writes.
/// </summary>
internal sealed class InMemoryTun(string name, int mtu = 1420) : ITun
{
    private readonly BlockingCollection<byte[]> _toDevice = [];
    private readonly BlockingCollection<byte[]> _fromDevice = [];
    private readonly CancellationTokenSource _closed = new();
    private volatile int _currentMtu = mtu;

    public string Name { get; } = name;

    /// <summary>As `ip link set IF mtu N`: the device sizes its next reads by it.</summary>
    public int Mtu
    {
        get => _currentMtu;
        set => _currentMtu = value;
    }

    /// <summary>Packets the device's buffers were too small for (a real TUN drops them the same way).</summary>
    public int TooLarge { get; private set; }

    /// <summary>As `ip link del IF`: reads end (return <see cref="IoResult.Closed"/>) without the device having been disposed.</summary>
    public void Delete() => _closed.Cancel();

    /// <summary>The "kernel" routes a packet into the tunnel.</summary>
    public void Inject(byte[] packet) => _toDevice.Add(packet);

    /// <summary>A packet the device delivered to the "kernel", or null after the timeout.</summary>
    public byte[]? Receive(TimeSpan timeout) => _fromDevice.TryTake(out var p, timeout) ? p : null;

    public int Read(Span<ArraySegment<byte>> packets)
    {
        byte[] first;
        try
        {
            first = _toDevice.Take(_closed.Token);
        }
        catch (OperationCanceledException)
        {
            return IoResult.Closed;
        }
        var n = 0;
        var next = first;
        do
        {
            var segment = packets[n];
            if (next.Length > segment.Count)
            {
                TooLarge++;
                continue;
            }
            next.CopyTo(segment.Array!, segment.Offset);
            packets[n] = new ArraySegment<byte>(segment.Array!, segment.Offset, next.Length);
            n++;
        }
        while (n < packets.Length && _toDevice.TryTake(out next!));
        return n > 0 ? n : IoResult.NothingFitted;
    }

    public int Write(ReadOnlySpan<ArraySegment<byte>> packets)
    {
        ObjectDisposedException.ThrowIf(_closed.IsCancellationRequested, this);
        foreach (var p in packets)
            _fromDevice.Add(p.AsSpan().ToArray());
        return packets.Length;
    }

    public void Dispose() => _closed.Cancel();
}
