namespace Portcullis.WireGuard.Noise;

public enum HandshakeState
{
    Zeroed,
    InitiationCreated,
    InitiationConsumed,
    ResponseCreated,
    ResponseConsumed,
}

/// <summary>
/// One peer's Noise_IKpsk2 handshake state (wireguard-go's Handshake). Every method of
/// <see cref="NoiseEngine"/> that takes a Handshake locks it itself, so callers need no lock.
/// </summary>
public sealed partial class Handshake
{
    /// <summary>The peer's static public key (32 bytes); fixed for the life of this object.</summary>
    public ReadOnlySpan<byte> RemoteStatic => throw new NotImplementedException();

    /// <summary>Set by the device to find its peer again after a lookup; the engine never reads it.</summary>
    public object? Owner { get; set; }

    public HandshakeState State => throw new NotImplementedException();

    /// <summary>Our index for this handshake (set by CreateInitiation/CreateResponse), 0 when none.</summary>
    public uint LocalIndex => throw new NotImplementedException();

    /// <summary>Sets or clears (all zero) the preshared key.</summary>
    public void SetPresharedKey(ReadOnlySpan<byte> presharedKey32) => throw new NotImplementedException();

    /// <summary>Zeroes ephemeral keys, hash and chaining key; state becomes Zeroed; LocalIndex becomes 0.</summary>
    public void Clear() => throw new NotImplementedException();
}
