namespace Portcullis.WireGuard.Uapi;

/// <summary>
/// What the UAPI server needs from a device: a snapshot to answer <c>get=1</c> and an atomic apply for
/// <c>set=1</c>. The server calls these one at a time (never concurrently with each other).
/// </summary>
public interface IUapiDevice
{
    /// <summary>
    /// A consistent snapshot of the device, in arrays of its own: the server zeroes the private and preshared keys
    /// (<see cref="UapiDeviceState.WipeKeys"/>) once the reply is written, so return copies, never the live keys.
    /// </summary>
    UapiDeviceState GetState();

    /// <summary>
    /// Applies the whole request or nothing. Peers are applied in request order (the same key may appear
    /// twice). Throws <see cref="UapiException"/> with a negative errno for a semantic error (e.g.
    /// <see cref="UapiErrno.AddressInUse"/> when the listen port cannot be bound).
    /// The request's key arrays belong to the server and are zeroed after this returns: copy what you keep.
    /// </summary>
    void Apply(UapiSetRequest request);
}
