using System.Security.Cryptography;

namespace Portcullis.WireGuard.Crypto.Native;

/// <summary>
/// The OpenSSL algorithm objects, fetched once per process (a fetch walks the provider store under a
/// lock) and then shared: fetched EVP_MD/EVP_MAC/EVP_CIPHER objects are immutable and thread-safe.
/// They live as long as the process, so they are never freed.
/// </summary>
internal static class OpenSslAlgorithms
{
    /// <summary>EVP_MD "BLAKE2S-256": HASH.</summary>
    internal static readonly nint Blake2s256 = Fetch(LibCrypto.EVP_MD_fetch(0, "BLAKE2S-256", null), "BLAKE2S-256");

    /// <summary>EVP_MAC "BLAKE2SMAC": keyed BLAKE2s whose digest size goes into the parameter block.</summary>
    internal static readonly nint Blake2sMac = Fetch(LibCrypto.EVP_MAC_fetch(0, "BLAKE2SMAC", null), "BLAKE2SMAC");

    /// <summary>EVP_MAC "HMAC", given the BLAKE2S-256 digest at init.</summary>
    internal static readonly nint Hmac = Fetch(LibCrypto.EVP_MAC_fetch(0, "HMAC", null), "HMAC");

    /// <summary>EVP_CIPHER "ChaCha20-Poly1305" (RFC 8439 AEAD).</summary>
    internal static readonly nint ChaCha20Poly1305 = Fetch(LibCrypto.EVP_CIPHER_fetch(0, "ChaCha20-Poly1305", null), "ChaCha20-Poly1305");

    private static nint Fetch(nint algorithm, string name)
    {
        if (algorithm == 0)
        {
            LibCrypto.ERR_clear_error();
            throw new PlatformNotSupportedException($"OpenSSL 3 (libcrypto.so.3) does not provide {name}.");
        }

        return algorithm;
    }

    /// <summary>Throws for a call that can only fail on memory exhaustion or misuse; never carries secret data.</summary>
    internal static void Check(int result, string function)
    {
        if (result <= 0)
        {
            LibCrypto.ERR_clear_error();
            throw new CryptographicException($"OpenSSL {function} failed.");
        }
    }

    internal static nint CheckPointer(nint pointer, string function)
    {
        if (pointer == 0)
        {
            LibCrypto.ERR_clear_error();
            throw new CryptographicException($"OpenSSL {function} failed.");
        }

        return pointer;
    }
}
