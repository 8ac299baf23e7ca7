using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Portcullis.WireGuard.Crypto.Native;

namespace Portcullis.WireGuard.Crypto;

/// <summary>
/// An X25519 private key as one OpenSSL key object, built once. OpenSSL 3 computes the public key every time a key
/// object is made from raw bytes, so a static key used for every handshake, or an ephemeral used for its public key
/// and two Diffie-Hellmans, is built once rather than per operation. A SafeHandle: the key object is freed (and
/// cleansed) once disposed and no longer in use; a DH on a key disposed meanwhile fails like a low-order point.
/// </summary>
internal sealed class OpenSslDhKey : SafeHandle, IDhKey
{
    public OpenSslDhKey(ReadOnlySpan<byte> privateKey32)
        : base(0, ownsHandle: true)
    {
        SetHandle(X25519.NewPrivateKey(privateKey32));
    }

    public override bool IsInvalid => handle == 0;

    public void WritePublicKey(Span<byte> publicKey32)
    {
        var added = false;
        try
        {
            DangerousAddRef(ref added);
            X25519.WritePublicKey(handle, publicKey32);
        }
        finally
        {
            if (added)
                DangerousRelease();
        }
    }

    public bool SharedSecret(ReadOnlySpan<byte> publicKey32, Span<byte> shared32)
    {
        var added = false;
        try
        {
            DangerousAddRef(ref added);
            return X25519.Derive(handle, publicKey32, shared32);
        }
        catch (ObjectDisposedException)
        {
            CryptographicOperations.ZeroMemory(shared32[..Math.Min(shared32.Length, X25519.KeySize)]);
            return false;
        }
        finally
        {
            if (added)
                DangerousRelease();
        }
    }

    protected override bool ReleaseHandle()
    {
        LibCrypto.EVP_PKEY_free(handle);
        return true;
    }
}
