namespace Portcullis.WireGuard.Noise;

/// <summary>Finds a peer's handshake by the static public key an initiation carries, or null when unknown.</summary>
public delegate Handshake? StaticKeyLookup(ReadOnlySpan<byte> remoteStatic32);

/// <summary>Finds the handshake that owns one of our indices, or null.</summary>
public delegate Handshake? LocalIndexLookup(uint localIndex);

/// <summary>
/// Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s as WireGuard uses it (wireguard-go's noise-protocol.go), pure:
/// no sockets, no clocks (time comes in as arguments), randomness through IWireGuardCrypto.
/// MAC1/MAC2 are not touched here: CookieGenerator adds them, CookieChecker checks them.
/// Thread-safe.
/// </summary>
public sealed partial class NoiseEngine
{
    public NoiseEngine(Crypto.IWireGuardCrypto crypto) => throw new NotImplementedException();

    /// <summary>Our static public key; all zero until a private key is set.</summary>
    public ReadOnlySpan<byte> PublicKey => throw new NotImplementedException();

    public bool HasPrivateKey => throw new NotImplementedException();

    /// <summary>Sets our static private key (all zero clears it). Handshakes created later use it.</summary>
    public void SetPrivateKey(ReadOnlySpan<byte> privateKey32) => throw new NotImplementedException();

    /// <summary>Copies our static private key out (for UAPI get); all zero when none.</summary>
    public void CopyPrivateKey(Span<byte> destination32) => throw new NotImplementedException();

    /// <summary>A handshake for a peer with this static public key (and an optional preshared key; empty = none).</summary>
    public Handshake CreateHandshake(ReadOnlySpan<byte> remoteStatic32, ReadOnlySpan<byte> presharedKey32) => throw new NotImplementedException();

    /// <summary>
    /// Writes a 148-byte initiation (mac1/mac2 left zero) into <paramref name="message"/>.
    /// <paramref name="timestamp12"/> is the TAI64N of now. Returns false when there is no private key
    /// or the static-static DH is zero.
    /// </summary>
    public bool CreateInitiation(Handshake handshake, uint localIndex, ReadOnlySpan<byte> timestamp12, Span<byte> message) => throw new NotImplementedException();

    /// <summary>
    /// Responder: authenticates a 148-byte initiation (MAC1 already checked by the caller) and returns the
    /// peer's handshake, now InitiationConsumed, or null: unknown static key, decryption failure, a
    /// timestamp not strictly greater than the last accepted one, or a second initiation from the same
    /// peer less than 20 ms after the previous accepted one (<paramref name="now"/> is monotonic time).
    /// On null nothing changes.
    /// </summary>
    public Handshake? ConsumeInitiation(ReadOnlySpan<byte> message, StaticKeyLookup lookup, TimeSpan now) => throw new NotImplementedException();

    /// <summary>Writes a 92-byte response (mac1/mac2 left zero) to a consumed initiation. False when the state is wrong.</summary>
    public bool CreateResponse(Handshake handshake, uint localIndex, Span<byte> message) => throw new NotImplementedException();

    /// <summary>Initiator: authenticates a 92-byte response addressed to one of our indices; returns the handshake, now ResponseConsumed, or null.</summary>
    public Handshake? ConsumeResponse(ReadOnlySpan<byte> message, LocalIndexLookup lookup) => throw new NotImplementedException();

    /// <summary>
    /// Derives the transport keys from a handshake in state ResponseCreated (responder) or ResponseConsumed
    /// (initiator), then clears the handshake (keeping its timestamp and flood-check state). False in any other state.
    /// </summary>
    public bool BeginSession(Handshake handshake, Span<byte> sendKey32, Span<byte> receiveKey32, out SessionIndices indices) => throw new NotImplementedException();
}

/// <summary>The indices of a new session: ours (receiver index on incoming packets) and theirs (what we put on outgoing ones).</summary>
public readonly record struct SessionIndices(uint LocalIndex, uint RemoteIndex, bool IsInitiator);
