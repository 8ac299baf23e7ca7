using System.Security.Cryptography;
using Portcullis.WireGuard.Crypto.Native;

namespace Portcullis.WireGuard.Crypto;

/// <summary>
/// X25519 (RFC 7748) through OpenSSL's EVP_PKEY. OpenSSL clamps the scalar itself. The span methods build and free
/// their EVP_PKEY objects per call; <see cref="OpenSslDhKey"/> keeps one private key object for repeated use, since
/// building one costs a base-point multiplication. EVP_PKEY_free cleanses the private key.
/// </summary>
internal static unsafe class X25519
{
    internal const int KeySize = 32;

    public static void GeneratePrivateKey(Span<byte> privateKey32)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(privateKey32.Length, KeySize, nameof(privateKey32));
        var key = privateKey32[..KeySize];
        RandomNumberGenerator.Fill(key);
        Clamp(key);
    }

    /// <summary>RFC 7748 §5 decodeScalar25519, applied to the stored key as WireGuard does.</summary>
    public static void Clamp(Span<byte> key32)
    {
        key32[0] &= 248;
        key32[31] &= 127;
        key32[31] |= 64;
    }

    public static void DerivePublicKey(ReadOnlySpan<byte> privateKey32, Span<byte> publicKey32)
    {
        RequireKey(privateKey32, nameof(privateKey32));
        ArgumentOutOfRangeException.ThrowIfLessThan(publicKey32.Length, KeySize, nameof(publicKey32));

        var privateKey = NewPrivateKey(privateKey32);
        try
        {
            WritePublicKey(privateKey, publicKey32);
        }
        finally
        {
            LibCrypto.EVP_PKEY_free(privateKey);
        }
    }

    /// <summary>
    /// False, with <paramref name="shared32"/> zeroed, when the result is all zeros (a low-order public
    /// key). OpenSSL already refuses that case; the constant-time check below does not rely on it.
    /// </summary>
    public static bool SharedSecret(ReadOnlySpan<byte> privateKey32, ReadOnlySpan<byte> publicKey32, Span<byte> shared32)
    {
        RequireKey(privateKey32, nameof(privateKey32));
        var privateKey = NewPrivateKey(privateKey32);
        try
        {
            return Derive(privateKey, publicKey32, shared32);
        }
        finally
        {
            LibCrypto.EVP_PKEY_free(privateKey);
        }
    }

    /// <summary>
    /// DH with a private key object already built. False, with <paramref name="shared32"/> zeroed, when the result is
    /// all zeros (a low-order public key). OpenSSL already refuses that case; the constant-time check below does not
    /// rely on it.
    /// </summary>
    internal static bool Derive(nint privateKey, ReadOnlySpan<byte> publicKey32, Span<byte> shared32)
    {
        RequireKey(publicKey32, nameof(publicKey32));
        ArgumentOutOfRangeException.ThrowIfLessThan(shared32.Length, KeySize, nameof(shared32));
        var output = shared32[..KeySize];

        nint peerKey = 0, context = 0;
        try
        {
            fixed (byte* peer = publicKey32)
                peerKey = OpenSslAlgorithms.CheckPointer(LibCrypto.EVP_PKEY_new_raw_public_key(LibCrypto.EvpPkeyX25519, 0, peer, KeySize), "EVP_PKEY_new_raw_public_key");
            context = OpenSslAlgorithms.CheckPointer(LibCrypto.EVP_PKEY_CTX_new(privateKey, 0), "EVP_PKEY_CTX_new");
            OpenSslAlgorithms.Check(LibCrypto.EVP_PKEY_derive_init(context), "EVP_PKEY_derive_init");
            // Validation of an X25519 public key only checks that it is present; the zero check below is what matters.
            OpenSslAlgorithms.Check(LibCrypto.EVP_PKEY_derive_set_peer_ex(context, peerKey, 0), "EVP_PKEY_derive_set_peer_ex");

            int derived;
            fixed (byte* secret = output)
            {
                nuint length = KeySize;
                derived = LibCrypto.EVP_PKEY_derive(context, secret, &length);
                if (derived > 0 && length != KeySize)
                    derived = 0;
            }

            if (derived <= 0)
            {
                // OpenSSL fails the derivation exactly when the result is all zeros.
                LibCrypto.ERR_clear_error();
                CryptographicOperations.ZeroMemory(output);
                return false;
            }

            if (IsAllZero(output))
            {
                CryptographicOperations.ZeroMemory(output);
                return false;
            }

            return true;
        }
        finally
        {
            LibCrypto.EVP_PKEY_CTX_free(context);
            LibCrypto.EVP_PKEY_free(peerKey);
        }
    }

    /// <summary>Writes the public key a private key object holds (OpenSSL computed it when the object was built).</summary>
    internal static void WritePublicKey(nint privateKey, Span<byte> publicKey32)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(publicKey32.Length, KeySize, nameof(publicKey32));
        fixed (byte* output = publicKey32)
        {
            nuint length = KeySize;
            OpenSslAlgorithms.Check(LibCrypto.EVP_PKEY_get_raw_public_key(privateKey, output, &length), "EVP_PKEY_get_raw_public_key");
        }
    }

    /// <summary>Constant time: every byte is read whatever the data.</summary>
    internal static bool IsAllZero(ReadOnlySpan<byte> value)
    {
        var accumulator = 0;
        foreach (var b in value)
            accumulator |= b;
        return accumulator == 0;
    }

    /// <summary>Builds a private key object; OpenSSL 3 computes its public key right here (a base-point multiplication).</summary>
    internal static nint NewPrivateKey(ReadOnlySpan<byte> privateKey32)
    {
        RequireKey(privateKey32, nameof(privateKey32));
        fixed (byte* key = privateKey32)
            return OpenSslAlgorithms.CheckPointer(LibCrypto.EVP_PKEY_new_raw_private_key(LibCrypto.EvpPkeyX25519, 0, key, KeySize), "EVP_PKEY_new_raw_private_key");
    }

    private static void RequireKey(ReadOnlySpan<byte> key, string name)
    {
        if (key.Length != KeySize)
            throw new ArgumentException("An X25519 key is 32 bytes.", name);
    }
}
