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
/// Locks: each handshake's own lock, then (briefly, to copy our key pair onto the stack) the identity
/// lock; never the other way round. Every message is computed on stack copies and committed to the
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
        lock (_identityLock)
        {
            _keyGeneration++;
            if (IsZero(privateKey32))
            {
                CryptographicOperations.ZeroMemory(_privateKey);
                Array.Clear(_publicKey);
                _hasPrivateKey = false;
                return;
            }
            privateKey32.CopyTo(_privateKey);
            _crypto.DerivePublicKey(_privateKey, _publicKey);
            _hasPrivateKey = true;
        }
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
        Span<byte> identity = stackalloc byte[2 * NoiseConstants.KeySize];
        try
        {
            lock (handshake.Sync)
            {
                var generation = SnapshotIdentity(identity[..32], identity[32..]);
                if (generation >= 0)
                    EnsurePrecomputed(handshake, identity[..32], generation);
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(identity);
        }
        return handshake;
    }

    /// <summary>Copies our key pair onto the caller's stack; returns its number, or -1 when we have no private key.</summary>
    private long SnapshotIdentity(Span<byte> privateKey32, Span<byte> publicKey32)
    {
        lock (_identityLock)
        {
            if (!_hasPrivateKey)
                return -1;
            _privateKey.CopyTo(privateKey32);
            _publicKey.CopyTo(publicKey32);
            return _keyGeneration;
        }
    }

    /// <summary>
    /// Recomputes DH(our static, their static) when our key changed since it was last computed. False when
    /// it is all zero (their key is a low-order point) or the handshake was destroyed. Caller holds the lock.
    /// </summary>
    private bool EnsurePrecomputed(Handshake handshake, ReadOnlySpan<byte> privateKey32, long generation)
    {
        if (handshake.PrecomputedGeneration == Handshake.Destroyed)
            return false;
        if (handshake.PrecomputedGeneration != generation)
        {
            // SharedSecret zeroes its output itself when the result is all zero.
            _crypto.SharedSecret(privateKey32, handshake.RemoteStatic, handshake.PrecomputedStaticStatic);
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
