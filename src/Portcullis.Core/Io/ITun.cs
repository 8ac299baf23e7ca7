namespace Portcullis.Core.Io;

/// <summary>
/// A layer-3 tunnel device: whole IP packets, no link-layer header.
/// One reader thread and one writer thread may use it at once; Dispose may be called from any thread.
/// </summary>
public interface ITun : IDisposable
{
    /// <summary>The interface name, such as "pc0".</summary>
    string Name { get; }

    /// <summary>
    /// The device MTU in bytes now (the largest IP packet Read returns). It may change at any time, as
    /// `ip link set IF mtu N` changes it; readers size their next buffers by it.
    /// </summary>
    int Mtu { get; }

    /// <summary>
    /// Blocks until at least one packet is available, then reads as many as are ready, up to
    /// <c>packets.Length</c>. On entry each element is a buffer area (array, offset, capacity) that should hold
    /// <see cref="Mtu"/> bytes. On return the first n elements are replaced by (array, offset, packet length).
    /// Returns n &gt;= 1; or <see cref="IoResult.NothingFitted"/> when a packet larger than its area came first (it
    /// is dropped and counted, and <see cref="Mtu"/> already covers it: size the areas again); or
    /// <see cref="IoResult.Closed"/> once the device is closed or its interface was deleted. Never allocates.
    /// </summary>
    int Read(Span<ArraySegment<byte>> packets);

    /// <summary>
    /// Writes each packet (a whole IP packet) to the device. A packet the kernel refuses is dropped and
    /// counted, not thrown. Returns how many were written. Throws ObjectDisposedException once closed.
    /// </summary>
    int Write(ReadOnlySpan<ArraySegment<byte>> packets);
}
