namespace Portcullis.WireGuard.Device;

/// <summary>Implementation choices of a device; the protocol's own constants are in <see cref="ProtocolConstants"/>.</summary>
public sealed record DeviceOptions
{
    /// <summary>
    /// Crypto worker threads. Defaults to the number of processors: sealing and opening are the parallel part of
    /// both pipelines.
    /// </summary>
    public int Workers { get; init; } = Environment.ProcessorCount;

    /// <summary>
    /// A peer's session is considered ended after this long without an authenticated packet from it. Defaults to
    /// 180 s (REJECT_AFTER_TIME: by then no key it holds is valid). Clients that must keep a session through idle
    /// periods (port forwarding) use a persistent keepalive shorter than this.
    /// </summary>
    public TimeSpan SessionTimeout { get; init; } = ProtocolConstants.RejectAfterTime;
}

public enum SessionEndReason
{
    /// <summary>No authenticated packet for <see cref="DeviceOptions.SessionTimeout"/>.</summary>
    Idle,

    /// <summary>The peer was removed from the device.</summary>
    Removed,

    /// <summary>Key material was zeroed (no new handshake for 3 × REJECT_AFTER_TIME).</summary>
    KeysExpired,

    /// <summary>The device shut down.</summary>
    DeviceClosed,
}

/// <summary>Raised for the gateway: a peer's session began or ended. <see cref="PublicKey"/> identifies the peer.</summary>
public sealed record PeerSessionEvent(byte[] PublicKey, Portcullis.Core.Io.UdpEndpoint? Endpoint, SessionEndReason? EndReason);
