using Portcullis.WireGuard.Crypto.Native;

namespace Portcullis.WireGuard.Crypto;

/// <summary>
/// HASH, MAC and HMAC of WireGuard over OpenSSL. Each call uses its own short-lived OpenSSL context (for the MACs, a copy of a prepared template):
/// that keeps calls thread-safe without locks, and freeing a context cleanses the key material OpenSSL
/// copied into it (a cached per-thread context would keep the last chaining key alive). The cost, a
/// few native allocations, is small beside the X25519 operations of the same handshake.
/// </summary>
internal static unsafe class Blake2s
{
    internal const int HashSize = 32;
    internal const int MacSize = 16;
    internal const int MaxKeySize = 32;

    public static void Hash(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second, Span<byte> hash32)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(hash32.Length, HashSize, nameof(hash32));
        var context = OpenSslAlgorithms.CheckPointer(LibCrypto.EVP_MD_CTX_new(), "EVP_MD_CTX_new");
        try
        {
            fixed (byte* a = first, b = second, output = hash32)
            {
                OpenSslAlgorithms.Check(LibCrypto.EVP_DigestInit_ex2(context, OpenSslAlgorithms.Blake2s256, null), "EVP_DigestInit_ex2");
                OpenSslAlgorithms.Check(LibCrypto.EVP_DigestUpdate(context, a, (nuint)first.Length), "EVP_DigestUpdate");
                OpenSslAlgorithms.Check(LibCrypto.EVP_DigestUpdate(context, b, (nuint)second.Length), "EVP_DigestUpdate");
                uint written = 0;
                OpenSslAlgorithms.Check(LibCrypto.EVP_DigestFinal_ex(context, output, &written), "EVP_DigestFinal_ex");
            }
        }
        finally
        {
            LibCrypto.EVP_MD_CTX_free(context);
        }
    }

    /// <summary>Keyed BLAKE2s with digest length 16 in the parameter block (BLAKE2SMAC, "size" = 16).</summary>
    public static void Mac(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data, Span<byte> mac16)
    {
        // BLAKE2s takes keys of 1..32 bytes; WireGuard uses 32 (mac1) and 16 (mac2, the cookie).
        if (key.IsEmpty || key.Length > MaxKeySize)
            throw new ArgumentException("A BLAKE2s key is 1 to 32 bytes.", nameof(key));
        ArgumentOutOfRangeException.ThrowIfLessThan(mac16.Length, MacSize, nameof(mac16));
        Compute(MacTemplates.Blake2sMac16, key, data, mac16[..MacSize]);
    }

    /// <summary>HMAC (RFC 2104) over BLAKE2s-256, block size 64.</summary>
    public static void Hmac(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data, Span<byte> mac32)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(mac32.Length, HashSize, nameof(mac32));
        Compute(MacTemplates.HmacBlake2s, key, data, mac32[..HashSize]);
    }

    private static void Compute(nint template, ReadOnlySpan<byte> key, ReadOnlySpan<byte> data, Span<byte> output)
    {
        // EVP_MAC_init treats a null key as "keep the previous key"; an empty key must still be a key.
        byte empty = 0;
        var context = OpenSslAlgorithms.CheckPointer(LibCrypto.EVP_MAC_CTX_dup(template), "EVP_MAC_CTX_dup");
        try
        {
            fixed (byte* k = key, d = data, o = output)
            {
                OpenSslAlgorithms.Check(LibCrypto.EVP_MAC_init(context, k == null ? &empty : k, (nuint)key.Length, null), "EVP_MAC_init");
                OpenSslAlgorithms.Check(LibCrypto.EVP_MAC_update(context, d == null ? &empty : d, (nuint)data.Length), "EVP_MAC_update");
                nuint written = 0;
                OpenSslAlgorithms.Check(LibCrypto.EVP_MAC_final(context, o, &written, (nuint)output.Length), "EVP_MAC_final");
                if (written != (nuint)output.Length)
                    throw new System.Security.Cryptography.CryptographicException("OpenSSL EVP_MAC_final returned an unexpected length.");
            }
        }
        finally
        {
            LibCrypto.EVP_MAC_CTX_free(context);
        }
    }
}
