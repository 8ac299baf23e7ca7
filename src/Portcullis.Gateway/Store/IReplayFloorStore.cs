namespace Portcullis.Gateway.Store;

/// <summary>
/// The replay floor of each public key that ever handshook with the gateway: the TAI64N timestamp of the latest
/// initiation the device accepted from it (12 bytes, big-endian, so byte order is time order). WireGuard accepts an
/// initiation only with a later timestamp than the last one; a gateway that forgot that on restart would let anyone who
/// captured an old initiation replay it, moving the peer's endpoint to themselves and bringing its forwards live.
/// Timestamps are not secret; keys stay when their peer is removed (it may come back with the same key).
/// Kept apart from <see cref="IGatewayStore"/> so a store without it still serves: the host then keeps floors for
/// as long as it runs.
/// </summary>
public interface IReplayFloorStore
{
    /// <summary>Every stored floor: public key (base64, as <c>wg</c> prints it) → 12-byte timestamp.</summary>
    Task<IReadOnlyDictionary<string, byte[]>> ListReplayFloorsAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Raises the stored floor of each key to its timestamp where that is later (never lowers one), in one transaction.
    /// Throws <see cref="ArgumentException"/> for a timestamp that is not 12 bytes.
    /// </summary>
    Task RaiseReplayFloorsAsync(IReadOnlyCollection<KeyValuePair<string, byte[]>> floors, CancellationToken cancellationToken = default);
}
