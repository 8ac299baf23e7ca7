namespace Portcullis.WireGuard.Device;

/// <summary>Why a packet was dropped or what the device did about hostile load.</summary>
public enum DropReason
{
    /// <summary>A packet from the TUN matched no peer's allowed IPs.</summary>
    NoRoute,
    /// <summary>A peer without a known endpoint.</summary>
    NoEndpoint,
    /// <summary>A datagram of unknown type or wrong size.</summary>
    Malformed,
    UnknownIndex,
    Replayed,
    AuthenticationFailed,
    /// <summary>A decrypted packet whose inner source is not in its peer's allowed IPs.</summary>
    DisallowedSource,
    BadInnerPacket,
    HandshakeQueueFull,
    BadMac,
    HandshakeRejected,
    RateLimited,
    ExpiredKeypair,
    /// <summary>Not a drop: a cookie reply was sent instead of answering a handshake under load.</summary>
    CookieReplySent,
    /// <summary>A packet staged for a handshake that no longer fits after the MTU was lowered.</summary>
    TooBig,
    /// <summary>A packet of a batch on which a crypto worker failed (the worker carries on with the next batch).</summary>
    CryptoFailed,
}

/// <summary>
/// Malformed and hostile input is counted, never thrown: these counters are how an operator (and the tests) see it.
/// Incremented only on the drop path, so they cost nothing on the good path.
/// </summary>
public sealed partial class DeviceCounters
{
    private readonly long[] _counts = new long[Enum.GetValues<DropReason>().Length];

    internal void Add(DropReason reason, long n = 1) => Interlocked.Add(ref _counts[(int)reason], n);

    public long this[DropReason reason] => Volatile.Read(ref _counts[(int)reason]);

    public long NoRoute => this[DropReason.NoRoute];
    public long NoEndpoint => this[DropReason.NoEndpoint];
    public long Malformed => this[DropReason.Malformed];
    public long UnknownIndex => this[DropReason.UnknownIndex];
    public long Replayed => this[DropReason.Replayed];
    public long AuthenticationFailed => this[DropReason.AuthenticationFailed];
    public long DisallowedSource => this[DropReason.DisallowedSource];
    public long BadInnerPacket => this[DropReason.BadInnerPacket];
    public long HandshakeQueueFull => this[DropReason.HandshakeQueueFull];
    public long BadMac => this[DropReason.BadMac];
    public long HandshakeRejected => this[DropReason.HandshakeRejected];
    public long RateLimited => this[DropReason.RateLimited];
    public long ExpiredKeypair => this[DropReason.ExpiredKeypair];
    public long CookieRepliesSent => this[DropReason.CookieReplySent];
    public long TooBig => this[DropReason.TooBig];
    public long CryptoFailed => this[DropReason.CryptoFailed];
}
