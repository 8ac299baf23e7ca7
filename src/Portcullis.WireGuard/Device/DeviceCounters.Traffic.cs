namespace Portcullis.WireGuard.Device;

/// <summary>Which side of a handshake the device was on.</summary>
public enum HandshakeRole
{
    /// <summary>We sent the initiation.</summary>
    Initiator,

    /// <summary>We answered one.</summary>
    Responder,
}

/// <summary>How a handshake went. Refusals under load (bad MAC, cookie, rate limit) are drops: <see cref="DropReason"/>.</summary>
public enum HandshakeResult
{
    /// <summary>An initiation went out (first tries and retries).</summary>
    Sent,

    /// <summary>Keys were derived: a session exists.</summary>
    Completed,

    /// <summary>The message authenticated its MACs but not the handshake (unknown key, replayed timestamp, removed peer).</summary>
    Rejected,

    /// <summary>No response within REKEY_ATTEMPT_TIME: the initiator gave up.</summary>
    TimedOut,
}

// Whole-device traffic and handshake outcomes, for the gateway's metrics. Traffic is counted per run of one peer's
// packets (the same place as the per-peer byte counters), so the packet path pays two atomic adds per run, not per
// packet. It counts transport messages (data and keepalives) as they cross UDP; unlike a peer's byte counters it
// keeps counting after a peer is removed, so the totals never go backwards.
public sealed partial class DeviceCounters
{
    private static readonly int HandshakeResults = Enum.GetValues<HandshakeResult>().Length;

    private readonly long[] _handshakes = new long[2 * HandshakeResults];
    private long _receivedBytes;
    private long _receivedPackets;
    private long _sentBytes;
    private long _sentPackets;

    public long ReceivedBytes => Interlocked.Read(ref _receivedBytes);
    public long ReceivedPackets => Interlocked.Read(ref _receivedPackets);
    public long SentBytes => Interlocked.Read(ref _sentBytes);
    public long SentPackets => Interlocked.Read(ref _sentPackets);

    public long Handshakes(HandshakeRole role, HandshakeResult result) =>
        Interlocked.Read(ref _handshakes[((int)role * HandshakeResults) + (int)result]);

    internal void AddReceived(long bytes, int packets)
    {
        Interlocked.Add(ref _receivedBytes, bytes);
        Interlocked.Add(ref _receivedPackets, packets);
    }

    internal void AddSent(long bytes, int packets)
    {
        Interlocked.Add(ref _sentBytes, bytes);
        Interlocked.Add(ref _sentPackets, packets);
    }

    internal void AddHandshake(HandshakeRole role, HandshakeResult result) =>
        Interlocked.Increment(ref _handshakes[((int)role * HandshakeResults) + (int)result]);
}
