using System.Security.Cryptography;
using NSec.Cryptography;

namespace Portcullis.WireGuard.Crypto;

/// <summary>
/// XChaCha20-Poly1305 for cookie replies, from libsodium through NSec (neither the BCL nor OpenSSL 3
/// has it). Cookie replies are rare, so importing a key per call is fine; disposing the NSec key
/// zeroes its copy.
/// </summary>
internal static class XChaChaPoly
{
    internal const int KeySize = 32;
    internal const int NonceSize = 24;
    internal const int TagSize = 16;

    private static readonly AeadAlgorithm Algorithm = AeadAlgorithm.XChaCha20Poly1305;

    public static void Seal(ReadOnlySpan<byte> key32, ReadOnlySpan<byte> nonce24, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData, Span<byte> ciphertextAndTag)
    {
        RequireSizes(key32, nonce24);
        if (ciphertextAndTag.Length != plaintext.Length + TagSize)
            throw new ArgumentException("The output must be the plaintext length plus the 16-byte tag.", nameof(ciphertextAndTag));

        using var key = Import(key32);
        Algorithm.Encrypt(key, nonce24, associatedData, plaintext, ciphertextAndTag);
    }

    public static bool Open(ReadOnlySpan<byte> key32, ReadOnlySpan<byte> nonce24, ReadOnlySpan<byte> ciphertextAndTag, ReadOnlySpan<byte> associatedData, Span<byte> plaintext)
    {
        RequireSizes(key32, nonce24);
        if (ciphertextAndTag.Length < TagSize)
            return false;
        if (plaintext.Length != ciphertextAndTag.Length - TagSize)
            throw new ArgumentException("The output must be the ciphertext length minus the 16-byte tag.", nameof(plaintext));

        using var key = Import(key32);
        if (Algorithm.Decrypt(key, nonce24, associatedData, ciphertextAndTag, plaintext))
            return true;
        CryptographicOperations.ZeroMemory(plaintext);
        return false;
    }

    private static Key Import(ReadOnlySpan<byte> key32) =>
        Key.Import(Algorithm, key32, KeyBlobFormat.RawSymmetricKey);

    private static void RequireSizes(ReadOnlySpan<byte> key32, ReadOnlySpan<byte> nonce24)
    {
        if (key32.Length != KeySize)
            throw new ArgumentException("An XChaCha20-Poly1305 key is 32 bytes.", nameof(key32));
        if (nonce24.Length != NonceSize)
            throw new ArgumentException("An XChaCha20-Poly1305 nonce is 24 bytes.", nameof(nonce24));
    }
}
