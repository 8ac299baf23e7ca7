using System.Security.Cryptography;
using Portcullis.WireGuard.Crypto.Native;

namespace Portcullis.WireGuard.Crypto;

/// <summary>
/// WireGuard's primitives: OpenSSL 3 (libcrypto.so.3) for X25519, BLAKE2s, keyed BLAKE2s, HMAC and
/// ChaCha20-Poly1305; libsodium (NSec) for XChaCha20-Poly1305; the BCL for randomness. Stateless and
/// thread-safe. The handshake-path methods make a few small native allocations per call (contexts
/// that are cleansed and freed before returning); the transport cipher allocates nothing per packet.
/// </summary>
public sealed class OpenSslCrypto : IWireGuardCrypto
{
    /// <summary>True when libcrypto.so.3 loads and offers every algorithm used here.</summary>
    public static bool IsSupported { get; } = Probe();

    public void Hash(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second, Span<byte> hash32) =>
        Blake2s.Hash(first, second, hash32);

    public void Mac(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data, Span<byte> mac16) =>
        Blake2s.Mac(key, data, mac16);

    public void Hmac(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data, Span<byte> mac32) =>
        Blake2s.Hmac(key, data, mac32);

    public void GeneratePrivateKey(Span<byte> privateKey32) => X25519.GeneratePrivateKey(privateKey32);

    public void DerivePublicKey(ReadOnlySpan<byte> privateKey32, Span<byte> publicKey32) =>
        X25519.DerivePublicKey(privateKey32, publicKey32);

    public bool SharedSecret(ReadOnlySpan<byte> privateKey32, ReadOnlySpan<byte> publicKey32, Span<byte> shared32) =>
        X25519.SharedSecret(privateKey32, publicKey32, shared32);

    public void Seal(ReadOnlySpan<byte> key32, ulong counter, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData, Span<byte> ciphertextAndTag)
    {
        Span<byte> nonce = stackalloc byte[AeadNonce.Size];
        AeadNonce.Write(counter, nonce);
        ChaChaPoly.Seal(key32, nonce, plaintext, associatedData, ciphertextAndTag);
    }

    public bool Open(ReadOnlySpan<byte> key32, ulong counter, ReadOnlySpan<byte> ciphertextAndTag, ReadOnlySpan<byte> associatedData, Span<byte> plaintext)
    {
        Span<byte> nonce = stackalloc byte[AeadNonce.Size];
        AeadNonce.Write(counter, nonce);
        return ChaChaPoly.Open(key32, nonce, ciphertextAndTag, associatedData, plaintext);
    }

    public void XSeal(ReadOnlySpan<byte> key32, ReadOnlySpan<byte> nonce24, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData, Span<byte> ciphertextAndTag) =>
        XChaChaPoly.Seal(key32, nonce24, plaintext, associatedData, ciphertextAndTag);

    public bool XOpen(ReadOnlySpan<byte> key32, ReadOnlySpan<byte> nonce24, ReadOnlySpan<byte> ciphertextAndTag, ReadOnlySpan<byte> associatedData, Span<byte> plaintext) =>
        XChaChaPoly.Open(key32, nonce24, ciphertextAndTag, associatedData, plaintext);

    public void RandomBytes(Span<byte> destination) => RandomNumberGenerator.Fill(destination);

    /// <summary>One OpenSSL key object for the key's life: building one computes the public key (see <see cref="OpenSslDhKey"/>).</summary>
    public IDhKey ImportPrivateKey(ReadOnlySpan<byte> privateKey32) => new OpenSslDhKey(privateKey32);

    /// <summary>OpenSSL with reused contexts: measured faster than the BCL's ChaCha20Poly1305 (see CryptoBenchmarks).</summary>
    public ITransportCipher CreateTransportCipher(ReadOnlySpan<byte> key32) => new OpenSslTransportCipher(key32);

    private static bool Probe()
    {
        try
        {
            // Touching one field runs the type initializer, which fetches every algorithm.
            return OpenSslAlgorithms.Blake2s256 != 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or TypeInitializationException)
        {
            return false;
        }
    }
}
