using System.Security.Cryptography;
using Portcullis.WireGuard.Crypto;

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
/// <remarks>
/// Locks: each handshake's own lock, then (briefly, to copy our public key onto the stack and take our private key
/// object) the identity lock; never the other way round. Every message is computed on stack copies and committed to the
/// handshake only once it has fully succeeded, so a failure changes nothing.
/// Files: this one holds our identity; NoiseEngine.Initiation.cs, NoiseEngine.Response.cs and
/// NoiseEngine.Session.cs hold the three steps of the handshake.
/// </remarks>
public sealed partial class NoiseEngine
{
    private readonly IWireGuardCrypto _crypto;
    private readonly Lock _identityLock = new();
    private readonly byte[] _privateKey = GC.AllocateArray<byte>(NoiseConstants.KeySize, pinned: true);
    private readonly byte[] _publicKey = new byte[NoiseConstants.KeySize];
    private bool _hasPrivateKey;

    // Our private key made ready for DH once (with OpenSSL, building a key object costs a base-point multiplication).
    private IDhKey? _staticKey;

    // Numbers each private key we are given, so handshakes know when their precomputed DH is stale.
    private long _keyGeneration;

    public NoiseEngine(Crypto.IWireGuardCrypto crypto)
    {
        ArgumentNullException.ThrowIfNull(crypto);
        _crypto = crypto;
    }

    /// <summary>Our static public key; all zero until a private key is set. The span reads live state: copy it if a concurrent SetPrivateKey matters.</summary>
    public ReadOnlySpan<byte> PublicKey => _publicKey;

    public bool HasPrivateKey
    {
        get
        {
            lock (_identityLock)
                return _hasPrivateKey;
        }
    }

    /// <summary>Sets our static private key (all zero clears it). Handshakes created later use it.</summary>
    public void SetPrivateKey(ReadOnlySpan<byte> privateKey32)
    {
        if (privateKey32.Length != NoiseConstants.KeySize)
            throw new ArgumentException("A private key is 32 bytes.", nameof(privateKey32));
        IDhKey? old;
        lock (_identityLock)
        {
            _keyGeneration++;
            old = _staticKey;
            _staticKey = null;
            if (IsZero(privateKey32))
            {
                CryptographicOperations.ZeroMemory(_privateKey);
                Array.Clear(_publicKey);
                _hasPrivateKey = false;
            }
            else
            {
                privateKey32.CopyTo(_privateKey);
                _staticKey = _crypto.ImportPrivateKey(_privateKey);
                _staticKey.WritePublicKey(_publicKey);
                _hasPrivateKey = true;
            }
        }
        // A handshake still using the old key finishes with it, or fails (it was for the old identity anyway).
        old?.Dispose();
    }

    /// <summary>Copies our static private key out (for UAPI get); all zero when none.</summary>
    public void CopyPrivateKey(Span<byte> destination32)
    {
        lock (_identityLock)
            _privateKey.CopyTo(destination32);
    }

    /// <summary>A handshake for a peer with this static public key (and an optional preshared key; empty = none).</summary>
    public Handshake CreateHandshake(ReadOnlySpan<byte> remoteStatic32, ReadOnlySpan<byte> presharedKey32)
    {
        var handshake = new Handshake(remoteStatic32, presharedKey32);
        Span<byte> publicKey = stackalloc byte[NoiseConstants.KeySize];
        lock (handshake.Sync)
        {
            var generation = SnapshotIdentity(publicKey, out var staticKey);
            if (generation >= 0)
                EnsurePrecomputed(handshake, staticKey!, generation);
        }
        return handshake;
    }

    /// <summary>
    /// Copies our public key onto the caller's stack and hands out our private key object; returns its number, or -1
    /// (and no key) when we have no private key.
    /// </summary>
    private long SnapshotIdentity(Span<byte> publicKey32, out IDhKey? staticKey)
    {
        lock (_identityLock)
        {
            staticKey = _staticKey;
            if (!_hasPrivateKey || staticKey is null)
                return -1;
            _publicKey.CopyTo(publicKey32);
            return _keyGeneration;
        }
    }

    /// <summary>
    /// Recomputes DH(our static, their static) when our key changed since it was last computed. False when
    /// it is all zero (their key is a low-order point) or the handshake was destroyed. Caller holds the lock.
    /// </summary>
    private static bool EnsurePrecomputed(Handshake handshake, IDhKey staticKey, long generation)
    {
        if (handshake.PrecomputedGeneration == Handshake.Destroyed)
            return false;
        if (handshake.PrecomputedGeneration != generation)
        {
            // SharedSecret zeroes its output itself when the result is all zero.
            staticKey.SharedSecret(handshake.RemoteStatic, handshake.PrecomputedStaticStatic);
            handshake.PrecomputedGeneration = generation;
        }
        return !IsZero(handshake.PrecomputedStaticStatic);
    }

    /// <summary>Constant-time all-zero test (the inputs may be secret).</summary>
    private static bool IsZero(ReadOnlySpan<byte> bytes)
    {
        var accumulator = 0;
        foreach (var b in bytes)
            accumulator |= b;
        return accumulator == 0;
    }
}
