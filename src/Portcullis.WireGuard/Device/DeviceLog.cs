using Microsoft.Extensions.Logging;

namespace Portcullis.WireGuard.Device;

/// <summary>
/// The device's log lines. Event ids 1000–1099. Peers appear by a short key prefix only; no secret ever, and no
/// per-packet line (drops are counted in <see cref="DeviceCounters"/>).
/// </summary>
internal static partial class DeviceLog
{
    [LoggerMessage(1000, LogLevel.Information, "{Device}: up, listening on UDP port {Port}")]
    public static partial void Up(this ILogger logger, string device, ushort port);

    [LoggerMessage(1001, LogLevel.Information, "{Device}: down")]
    public static partial void Down(this ILogger logger, string device);

    [LoggerMessage(1002, LogLevel.Debug, "{Device}: peer {Peer} handshake initiation sent")]
    public static partial void InitiationSent(this ILogger logger, string device, string peer);

    [LoggerMessage(1003, LogLevel.Debug, "{Device}: peer {Peer} session derived (initiator: {Initiator})")]
    public static partial void SessionDerived(this ILogger logger, string device, string peer, bool initiator);

    [LoggerMessage(1004, LogLevel.Information, "{Device}: peer {Peer} session established")]
    public static partial void SessionEstablished(this ILogger logger, string device, string peer);

    [LoggerMessage(1005, LogLevel.Information, "{Device}: peer {Peer} session ended ({Reason})")]
    public static partial void SessionEnded(this ILogger logger, string device, string peer, SessionEndReason reason);

    [LoggerMessage(1006, LogLevel.Debug, "{Device}: handshake did not complete after {Attempts} attempts, giving up")]
    public static partial void HandshakeGaveUp(this ILogger logger, string device, int attempts);

    [LoggerMessage(1007, LogLevel.Warning, "{Device}: pipeline thread {Thread} failed")]
    public static partial void PipelineFailed(this ILogger logger, string device, string thread, Exception exception);

    [LoggerMessage(1008, LogLevel.Warning, "{Device}: under load, handshakes answered with cookies and rate limited per source (so far: {Refused} refused by the full queue, {Limited} over their source's rate, {Cookies} cookie replies)")]
    public static partial void UnderLoad(this ILogger logger, string device, long refused, long limited, long cookies);

    [LoggerMessage(1009, LogLevel.Information, "{Device}: peer {Peer} added")]
    public static partial void PeerAdded(this ILogger logger, string device, string peer);

    [LoggerMessage(1010, LogLevel.Information, "{Device}: peer {Peer} removed")]
    public static partial void PeerRemoved(this ILogger logger, string device, string peer);

    [LoggerMessage(1011, LogLevel.Information, "{Device}: listen port changed to {Port}")]
    public static partial void ListenPortChanged(this ILogger logger, string device, ushort port);

    [LoggerMessage(1012, LogLevel.Information, "{Device}: no longer under load, handshakes need only MAC1 again (so far: {Refused} refused by the full queue, {Limited} over their source's rate, {Cookies} cookie replies)")]
    public static partial void LoadPassed(this ILogger logger, string device, long refused, long limited, long cookies);

    [LoggerMessage(1040, LogLevel.Warning, "{Device}: crypto worker {Worker} failed on an {Direction} batch and dropped it ({Dropped} packets so far); it carries on")]
    public static partial void CryptoWorkerFailed(this ILogger logger, string device, int worker, string direction, long dropped, Exception exception);

    public static string Short(byte[] publicKey) => Convert.ToBase64String(publicKey)[..8];
}
