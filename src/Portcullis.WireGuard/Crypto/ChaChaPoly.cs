using System.Security.Cryptography;
using Portcullis.WireGuard.Crypto.Native;

namespace Portcullis.WireGuard.Crypto;

/// <summary>
/// ChaCha20-Poly1305 (RFC 8439) on an OpenSSL EVP_CIPHER_CTX that already holds key and direction.
/// Per message: set the nonce (which also resets Poly1305), feed AD, run the cipher, then read or
/// check the tag. Input and output may overlap exactly (a stream cipher writes byte i after reading
/// it); partial overlap is refused by OpenSSL and must not be passed.
/// </summary>
internal static unsafe class ChaChaPoly
{
    internal const int KeySize = 32;
    internal const int TagSize = 16;

    /// <summary>A cipher context keyed for one direction; the caller frees it (which cleanses the key).</summary>
    public static nint NewContext(ReadOnlySpan<byte> key32, bool encrypt)
    {
        if (key32.Length != KeySize)
            throw new ArgumentException("A ChaCha20-Poly1305 key is 32 bytes.", nameof(key32));

        var context = OpenSslAlgorithms.CheckPointer(LibCrypto.EVP_CIPHER_CTX_new(), "EVP_CIPHER_CTX_new");
        fixed (byte* key = key32)
        {
            if (LibCrypto.EVP_CipherInit_ex2(context, OpenSslAlgorithms.ChaCha20Poly1305, key, null, encrypt ? 1 : 0, null) <= 0)
            {
                LibCrypto.EVP_CIPHER_CTX_free(context);
                OpenSslAlgorithms.Check(0, "EVP_CipherInit_ex2");
            }
        }

        return context;
    }

    /// <summary><paramref name="output"/> is plaintext.Length + 16: ciphertext, then tag.</summary>
    public static void Seal(nint context, ReadOnlySpan<byte> nonce12, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData, Span<byte> output)
    {
        RequireNonce(nonce12);
        if (output.Length != plaintext.Length + TagSize)
            throw new ArgumentException("The output must be the plaintext length plus the 16-byte tag.", nameof(output));
        RequireExactOrNoOverlap(plaintext, output);

        fixed (byte* nonce = nonce12, input = plaintext, ad = associatedData, result = output)
        {
            OpenSslAlgorithms.Check(LibCrypto.EVP_CipherInit_ex2(context, 0, null, nonce, -1, null), "EVP_CipherInit_ex2");
            int written;
            if (!associatedData.IsEmpty)
                OpenSslAlgorithms.Check(LibCrypto.EVP_CipherUpdate(context, null, &written, ad, associatedData.Length), "EVP_CipherUpdate");
            if (!plaintext.IsEmpty)
                OpenSslAlgorithms.Check(LibCrypto.EVP_CipherUpdate(context, result, &written, input, plaintext.Length), "EVP_CipherUpdate");
            // Final writes nothing for a stream cipher; it still wants a valid pointer.
            OpenSslAlgorithms.Check(LibCrypto.EVP_CipherFinal_ex(context, result, &written), "EVP_CipherFinal_ex");
            OpenSslAlgorithms.Check(LibCrypto.EVP_CIPHER_CTX_ctrl(context, LibCrypto.EvpCtrlAeadGetTag, TagSize, result + plaintext.Length), "EVP_CIPHER_CTX_ctrl");
        }
    }

    /// <summary>False when the tag does not verify (or the input is shorter than a tag); the output is then zeroed.</summary>
    public static bool Open(nint context, ReadOnlySpan<byte> nonce12, ReadOnlySpan<byte> ciphertextAndTag, ReadOnlySpan<byte> associatedData, Span<byte> output)
    {
        RequireNonce(nonce12);
        if (ciphertextAndTag.Length < TagSize)
            return false;
        var length = ciphertextAndTag.Length - TagSize;
        if (output.Length != length)
            throw new ArgumentException("The output must be the ciphertext length minus the 16-byte tag.", nameof(output));
        RequireExactOrNoOverlap(ciphertextAndTag, output);

        bool authentic;
        fixed (byte* nonce = nonce12, input = ciphertextAndTag, ad = associatedData, result = output)
        {
            // The tag is copied into the context before decryption, so exact in-place use is safe.
            OpenSslAlgorithms.Check(LibCrypto.EVP_CipherInit_ex2(context, 0, null, nonce, -1, null), "EVP_CipherInit_ex2");
            OpenSslAlgorithms.Check(LibCrypto.EVP_CIPHER_CTX_ctrl(context, LibCrypto.EvpCtrlAeadSetTag, TagSize, input + length), "EVP_CIPHER_CTX_ctrl");
            int written;
            if (!associatedData.IsEmpty)
                OpenSslAlgorithms.Check(LibCrypto.EVP_CipherUpdate(context, null, &written, ad, associatedData.Length), "EVP_CipherUpdate");
            if (length > 0)
                OpenSslAlgorithms.Check(LibCrypto.EVP_CipherUpdate(context, result, &written, input, length), "EVP_CipherUpdate");
            byte scratch;
            authentic = LibCrypto.EVP_CipherFinal_ex(context, &scratch, &written) > 0;
        }

        if (!authentic)
        {
            LibCrypto.ERR_clear_error();
            CryptographicOperations.ZeroMemory(output);
        }

        return authentic;
    }

    /// <summary>One-shot seal with a key used once (handshake messages).</summary>
    public static void Seal(ReadOnlySpan<byte> key32, ReadOnlySpan<byte> nonce12, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData, Span<byte> output)
    {
        var context = NewContext(key32, encrypt: true);
        try
        {
            Seal(context, nonce12, plaintext, associatedData, output);
        }
        finally
        {
            LibCrypto.EVP_CIPHER_CTX_free(context);
        }
    }

    /// <summary>One-shot open with a key used once (handshake messages).</summary>
    public static bool Open(ReadOnlySpan<byte> key32, ReadOnlySpan<byte> nonce12, ReadOnlySpan<byte> ciphertextAndTag, ReadOnlySpan<byte> associatedData, Span<byte> output)
    {
        var context = NewContext(key32, encrypt: false);
        try
        {
            return Open(context, nonce12, ciphertextAndTag, associatedData, output);
        }
        finally
        {
            LibCrypto.EVP_CIPHER_CTX_free(context);
        }
    }

    private static void RequireNonce(ReadOnlySpan<byte> nonce12)
    {
        if (nonce12.Length != AeadNonce.Size)
            throw new ArgumentException("A ChaCha20-Poly1305 nonce is 12 bytes.", nameof(nonce12));
    }

    private static void RequireExactOrNoOverlap(ReadOnlySpan<byte> input, ReadOnlySpan<byte> output)
    {
        if (input.Overlaps(output, out var offset) && offset != 0)
            throw new ArgumentException("Input and output may overlap only exactly (same start).", nameof(output));
    }
}
