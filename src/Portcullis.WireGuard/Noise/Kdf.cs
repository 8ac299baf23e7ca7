using System.Security.Cryptography;
using Portcullis.WireGuard.Crypto;

namespace Portcullis.WireGuard.Noise;

/// <summary>
/// The whitepaper's KDF_n over HMAC-BLAKE2s, and the MixHash/MixKey steps built on it:
/// τ0 = HMAC(key, input), τ1 = HMAC(τ0, 0x1), τi = HMAC(τ0, τi-1 ‖ i).
/// Outputs may alias the key or each other: every output is staged on the stack first.
/// </summary>
internal static class Kdf
{
    public static void Kdf1(IWireGuardCrypto crypto, ReadOnlySpan<byte> key, ReadOnlySpan<byte> input, Span<byte> out1) =>
        Derive(crypto, key, input, out1, [], []);

    public static void Kdf2(IWireGuardCrypto crypto, ReadOnlySpan<byte> key, ReadOnlySpan<byte> input, Span<byte> out1, Span<byte> out2) =>
        Derive(crypto, key, input, out1, out2, []);

    public static void Kdf3(IWireGuardCrypto crypto, ReadOnlySpan<byte> key, ReadOnlySpan<byte> input, Span<byte> out1, Span<byte> out2, Span<byte> out3) =>
        Derive(crypto, key, input, out1, out2, out3);

    /// <summary>chainKey = KDF1(chainKey, input).</summary>
    public static void MixKey(IWireGuardCrypto crypto, Span<byte> chainKey, ReadOnlySpan<byte> input) =>
        Kdf1(crypto, chainKey, input, chainKey);

    /// <summary>hash = HASH(hash ‖ data).</summary>
    public static void MixHash(IWireGuardCrypto crypto, Span<byte> hash, ReadOnlySpan<byte> data)
    {
        Span<byte> next = stackalloc byte[NoiseConstants.HashSize];
        crypto.Hash(hash, data, next);
        next.CopyTo(hash);
    }

    private static void Derive(IWireGuardCrypto crypto, ReadOnlySpan<byte> key, ReadOnlySpan<byte> input, Span<byte> out1, Span<byte> out2, Span<byte> out3)
    {
        const int n = NoiseConstants.HashSize;
        Span<byte> secret = stackalloc byte[n];
        Span<byte> t1 = stackalloc byte[n];
        Span<byte> t2 = stackalloc byte[n];
        Span<byte> t3 = stackalloc byte[n];
        Span<byte> block = stackalloc byte[n + 1];
        try
        {
            crypto.Hmac(key, input, secret);

            block[0] = 1;
            crypto.Hmac(secret, block[..1], t1);
            if (!out2.IsEmpty || !out3.IsEmpty)
            {
                t1.CopyTo(block);
                block[n] = 2;
                crypto.Hmac(secret, block, t2);
            }
            if (!out3.IsEmpty)
            {
                t2.CopyTo(block);
                block[n] = 3;
                crypto.Hmac(secret, block, t3);
            }

            t1.CopyTo(out1);
            if (!out2.IsEmpty)
                t2.CopyTo(out2);
            if (!out3.IsEmpty)
                t3.CopyTo(out3);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
            CryptographicOperations.ZeroMemory(t1);
            CryptographicOperations.ZeroMemory(t2);
            CryptographicOperations.ZeroMemory(t3);
            CryptographicOperations.ZeroMemory(block);
        }
    }
}
