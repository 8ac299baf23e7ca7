namespace Portcullis.Core.Io;

/// <summary>
/// The UDP side of a tunnel: one socket (IPv4 and IPv6) bound to a port, batched receive and send.
/// One receiver thread and any number of sender threads may use it; Dispose may be called from any thread.
/// </summary>
public interface IBind : IDisposable
{
    /// <summary>The port actually bound (useful when 0 was asked for).</summary>
    ushort Port { get; }

    /// <summary>
    /// Blocks until at least one datagram arrives, then receives as many as are ready, up to
    /// <c>packets.Length</c> (sources.Length must be &gt;= packets.Length). On entry each element of
    /// <paramref name="packets"/> is a buffer area (array, offset, capacity); on return the first n are
    /// replaced by (array, offset, datagram length) and sources[i] holds each sender.
    /// A datagram that does not fit its area, or whose sender cannot be read, is dropped and counted, and the kept
    /// ones move up: the areas may come back in another order (every one passed in is still somewhere in
    /// <paramref name="packets"/>), so the caller finds datagram i in packets[i] and nowhere else.
    /// Returns n &gt;= 1; or <see cref="IoResult.NothingFitted"/> when every datagram taken was too large for its area
    /// (so a caller whose MTU has grown can offer larger areas); or <see cref="IoResult.Closed"/> once the bind is
    /// closed. Never allocates.
    /// </summary>
    int Receive(Span<ArraySegment<byte>> packets, Span<UdpEndpoint> sources);

    /// <summary>
    /// Sends each datagram to <paramref name="destination"/>. Errors such as an unreachable
    /// destination are counted and dropped, never thrown; returns how many were sent.
    /// </summary>
    int Send(ReadOnlySpan<ArraySegment<byte>> packets, UdpEndpoint destination);

    /// <summary>Sets SO_MARK on the socket (0 clears it). wg's "fwmark".</summary>
    void SetMark(uint mark);
}

/// <summary>Opens binds; the device reopens its bind when the listen port changes.</summary>
public interface IBindFactory
{
    /// <summary>Opens a bind on <paramref name="port"/> (0 = any free port) with SO_MARK <paramref name="mark"/>.</summary>
    IBind Open(ushort port, uint mark);
}
