using System.Security.Cryptography;

namespace Portcullis.WireGuard.Noise;

public enum HandshakeState
{
    Zeroed,
    InitiationCreated,
    InitiationConsumed,
    ResponseCreated,
    ResponseConsumed,
}

/// <summary>
/// One peer's Noise_IKpsk2 handshake state (wireguard-go's Handshake). Every method of
/// <see cref="NoiseEngine"/> that takes a Handshake locks it itself, so callers need no lock.
/// </summary>
/// <remarks>
/// Secrets live in pinned arrays so the GC never leaves moved copies behind, and are zeroed as soon as
/// they are spent. The static-static DH is computed once per (handshake, our private key): the engine
/// numbers each private key it is given, and a handshake recomputes lazily, under its own lock, when the
/// number it computed for is not the engine's current one.
/// </remarks>
public sealed partial class Handshake
{
    internal const long Destroyed = long.MinValue;

    private readonly byte[] _remoteStatic = new byte[NoiseConstants.KeySize];

    internal Handshake(ReadOnlySpan<byte> remoteStatic32, ReadOnlySpan<byte> presharedKey32)
    {
        if (remoteStatic32.Length != NoiseConstants.KeySize)
            throw new ArgumentException("A static public key is 32 bytes.", nameof(remoteStatic32));
        remoteStatic32.CopyTo(_remoteStatic);
        SetPresharedKey(presharedKey32);
    }

    /// <summary>Guards every field below; taken by the engine, never held while calling out (lookups).</summary>
    internal Lock Sync { get; } = new();

    internal byte[] PresharedKey { get; } = NewSecret(NoiseConstants.KeySize);
    internal byte[] LocalEphemeral { get; } = NewSecret(NoiseConstants.KeySize);

    /// <summary><see cref="LocalEphemeral"/> as a key object, from our initiation until the handshake is cleared.</summary>
    internal Crypto.IDhKey? LocalEphemeralKey { get; private set; }
    internal byte[] RemoteEphemeral { get; } = new byte[NoiseConstants.KeySize];
    internal byte[] Hash { get; } = NewSecret(NoiseConstants.HashSize);
    internal byte[] ChainKey { get; } = NewSecret(NoiseConstants.HashSize);
    internal byte[] PrecomputedStaticStatic { get; } = NewSecret(NoiseConstants.KeySize);

    /// <summary>The engine key number <see cref="PrecomputedStaticStatic"/> was computed for; -1 none yet, <see cref="Destroyed"/> after <see cref="Destroy"/>.</summary>
    internal long PrecomputedGeneration { get; set; } = -1;

    /// <summary>TAI64N of the last accepted initiation; replays must be strictly later.</summary>
    internal byte[] LastTimestamp { get; } = new byte[NoiseConstants.TimestampSize];

    internal TimeSpan LastInitiationConsumption { get; set; }
    internal bool HasConsumedInitiation { get; set; }

    internal HandshakeState CurrentState { get; set; }
    internal uint CurrentLocalIndex { get; set; }
    internal uint CurrentRemoteIndex { get; set; }

    /// <summary>The peer's static public key (32 bytes); fixed for the life of this object.</summary>
    public ReadOnlySpan<byte> RemoteStatic => _remoteStatic;

    /// <summary>Set by the device to find its peer again after a lookup; the engine never reads it.</summary>
    public object? Owner { get; set; }

    public HandshakeState State
    {
        get
        {
            lock (Sync)
                return CurrentState;
        }
    }

    /// <summary>Our index for this handshake (set by CreateInitiation/CreateResponse), 0 when none.</summary>
    public uint LocalIndex
    {
        get
        {
            lock (Sync)
                return CurrentLocalIndex;
        }
    }

    /// <summary>The peer's index learnt from its initiation or response (what it expects on our packets), 0 when none.</summary>
    public uint RemoteIndex
    {
        get
        {
            lock (Sync)
                return CurrentRemoteIndex;
        }
    }

    /// <summary>Sets or clears (all zero) the preshared key.</summary>
    public void SetPresharedKey(ReadOnlySpan<byte> presharedKey32)
    {
        if (!presharedKey32.IsEmpty && presharedKey32.Length != NoiseConstants.KeySize)
            throw new ArgumentException("A preshared key is 32 bytes (or empty for none).", nameof(presharedKey32));
        lock (Sync)
        {
            if (presharedKey32.IsEmpty)
                CryptographicOperations.ZeroMemory(PresharedKey);
            else
                presharedKey32.CopyTo(PresharedKey);
        }
    }

    /// <summary>Zeroes ephemeral keys, hash and chaining key; state becomes Zeroed; LocalIndex becomes 0.</summary>
    public void Clear()
    {
        lock (Sync)
            ClearLocked();
    }

    /// <summary>
    /// <see cref="Clear"/>, and also zeroes the preshared key and the precomputed static-static DH; the
    /// handshake can create or accept nothing afterwards. For a peer being removed.
    /// </summary>
    public void Destroy()
    {
        lock (Sync)
        {
            ClearLocked();
            CryptographicOperations.ZeroMemory(PresharedKey);
            CryptographicOperations.ZeroMemory(PrecomputedStaticStatic);
            PrecomputedGeneration = Destroyed;
        }
    }

    /// <summary>Copies the TAI64N of the last accepted initiation (12 bytes; zero when none was accepted).</summary>
    internal void CopyLastTimestamp(Span<byte> destination12)
    {
        lock (Sync)
            LastTimestamp.CopyTo(destination12);
    }

    /// <summary>
    /// Raises the replay floor to <paramref name="timestamp12"/> when it is later than the one held: an initiation
    /// is accepted only with a later timestamp. For a peer re-added (or a device restarted) whose earlier
    /// initiations an attacker may have captured.
    /// </summary>
    internal void RaiseTimestampFloor(ReadOnlySpan<byte> timestamp12)
    {
        if (timestamp12.Length != NoiseConstants.TimestampSize)
            throw new ArgumentException("A TAI64N timestamp is 12 bytes.", nameof(timestamp12));
        lock (Sync)
        {
            if (Portcullis.Core.Time.Tai64N.IsAfter(timestamp12, LastTimestamp))
                timestamp12.CopyTo(LastTimestamp);
        }
    }

    /// <summary>Holds <paramref name="key"/> as the ephemeral's key object, disposing the one it replaces. Caller holds the lock.</summary>
    internal void ReplaceLocalEphemeralKey(Crypto.IDhKey? key)
    {
        LocalEphemeralKey?.Dispose();
        LocalEphemeralKey = key;
    }

    internal void ClearLocked()
    {
        ReplaceLocalEphemeralKey(null);
        CryptographicOperations.ZeroMemory(LocalEphemeral);
        CryptographicOperations.ZeroMemory(RemoteEphemeral);
        CryptographicOperations.ZeroMemory(Hash);
        CryptographicOperations.ZeroMemory(ChainKey);
        CurrentLocalIndex = 0;
        CurrentState = HandshakeState.Zeroed;
    }

    private static byte[] NewSecret(int length) => GC.AllocateArray<byte>(length, pinned: true);
}
