namespace Portcullis.WireGuard.Crypto;

/// <summary>
/// Every primitive WireGuard uses, from well-kept libraries (never hand-written). All methods are
/// thread-safe and allocation-free unless stated. Sizes: keys 32, hashes 32, MAC 16, AEAD tag 16,
/// AEAD nonce = 4 zero bytes ‖ 64-bit little-endian counter, XAEAD nonce 24.
/// </summary>
public interface IWireGuardCrypto
{
    /// <summary>HASH: BLAKE2s-256 of the concatenation of <paramref name="first"/> and <paramref name="second"/> (either may be empty).</summary>
    void Hash(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second, Span<byte> hash32);

    /// <summary>MAC: keyed BLAKE2s with a 16-byte digest set in the parameter block (not a truncated 32-byte hash).</summary>
    void Mac(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data, Span<byte> mac16);

    /// <summary>HMAC-BLAKE2s-256 (block size 64).</summary>
    void Hmac(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data, Span<byte> mac32);

    /// <summary>Fills <paramref name="privateKey32"/> with a fresh clamped X25519 private key from a CSPRNG.</summary>
    void GeneratePrivateKey(Span<byte> privateKey32);

    /// <summary>X25519 public key of a private key (the private key is clamped as X25519 requires).</summary>
    void DerivePublicKey(ReadOnlySpan<byte> privateKey32, Span<byte> publicKey32);

    /// <summary>X25519 shared secret. Returns false (and zeroes the output) when it is all zeros — checked in constant time.</summary>
    bool SharedSecret(ReadOnlySpan<byte> privateKey32, ReadOnlySpan<byte> publicKey32, Span<byte> shared32);

    /// <summary>ChaCha20-Poly1305 seal; <paramref name="ciphertextAndTag"/> is plaintext.Length + 16. For handshake messages.</summary>
    void Seal(ReadOnlySpan<byte> key32, ulong counter, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData, Span<byte> ciphertextAndTag);

    /// <summary>ChaCha20-Poly1305 open; false when authentication fails (the output is then zeroed).</summary>
    bool Open(ReadOnlySpan<byte> key32, ulong counter, ReadOnlySpan<byte> ciphertextAndTag, ReadOnlySpan<byte> associatedData, Span<byte> plaintext);

    /// <summary>XChaCha20-Poly1305 seal (cookie replies only).</summary>
    void XSeal(ReadOnlySpan<byte> key32, ReadOnlySpan<byte> nonce24, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData, Span<byte> ciphertextAndTag);

    /// <summary>XChaCha20-Poly1305 open; false when authentication fails.</summary>
    bool XOpen(ReadOnlySpan<byte> key32, ReadOnlySpan<byte> nonce24, ReadOnlySpan<byte> ciphertextAndTag, ReadOnlySpan<byte> associatedData, Span<byte> plaintext);

    /// <summary>Fills <paramref name="destination"/> from a CSPRNG.</summary>
    void RandomBytes(Span<byte> destination);

    /// <summary>
    /// A private key made ready for several Diffie-Hellmans (our static key; an ephemeral used for its public key and
    /// two DHs). Thread-safe; Dispose wipes it. By default a copy of the bytes fed to <see cref="SharedSecret"/> and
    /// <see cref="DerivePublicKey"/> each time; an implementation whose key setup costs something keeps it instead.
    /// </summary>
    IDhKey ImportPrivateKey(ReadOnlySpan<byte> privateKey32) => new BytesDhKey(this, privateKey32);

    /// <summary>
    /// A transport cipher for one keypair direction: the data path's seal/open with a key fixed at creation.
    /// Not thread-safe: the device creates one per crypto worker (creating one costs about a microsecond).
    /// </summary>
    ITransportCipher CreateTransportCipher(ReadOnlySpan<byte> key32);
}

/// <summary>An X25519 private key held for repeated use (see <see cref="IWireGuardCrypto.ImportPrivateKey"/>).</summary>
public interface IDhKey : IDisposable
{
    /// <summary>Writes the matching public key (32 bytes).</summary>
    void WritePublicKey(Span<byte> publicKey32);

    /// <summary>X25519 with <paramref name="publicKey32"/>; false (output zeroed) when the result is all zeros.</summary>
    bool SharedSecret(ReadOnlySpan<byte> publicKey32, Span<byte> shared32);
}

/// <summary>The default <see cref="IDhKey"/>: a pinned copy of the private key, handed to the span methods each time.</summary>
internal sealed class BytesDhKey : IDhKey
{
    private readonly IWireGuardCrypto _crypto;
    private readonly byte[] _privateKey = GC.AllocateArray<byte>(32, pinned: true);

    public BytesDhKey(IWireGuardCrypto crypto, ReadOnlySpan<byte> privateKey32)
    {
        if (privateKey32.Length != 32)
            throw new ArgumentException("An X25519 key is 32 bytes.", nameof(privateKey32));
        _crypto = crypto;
        privateKey32.CopyTo(_privateKey);
    }

    public void WritePublicKey(Span<byte> publicKey32) => _crypto.DerivePublicKey(_privateKey, publicKey32);

    public bool SharedSecret(ReadOnlySpan<byte> publicKey32, Span<byte> shared32) => _crypto.SharedSecret(_privateKey, publicKey32, shared32);

    public void Dispose() => System.Security.Cryptography.CryptographicOperations.ZeroMemory(_privateKey);
}

/// <summary>ChaCha20-Poly1305 with a fixed key. One thread at a time; Dispose zeroes the key.</summary>
public interface ITransportCipher : IDisposable
{
    /// <summary>Seals <paramref name="plaintext"/> into <paramref name="ciphertextAndTag"/> (plaintext.Length + 16 bytes; may overlap exactly). Empty AD.</summary>
    void Seal(ulong counter, ReadOnlySpan<byte> plaintext, Span<byte> ciphertextAndTag);

    /// <summary>Opens into <paramref name="plaintext"/> (ciphertextAndTag.Length - 16 bytes; may overlap exactly). Empty AD. False when authentication fails.</summary>
    bool Open(ulong counter, ReadOnlySpan<byte> ciphertextAndTag, Span<byte> plaintext);
}
