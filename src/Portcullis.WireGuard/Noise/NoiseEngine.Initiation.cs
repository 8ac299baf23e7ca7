using System.Security.Cryptography;
using Portcullis.Core.Time;
using Portcullis.WireGuard.Messages;

namespace Portcullis.WireGuard.Noise;

// The first message (whitepaper §5.4.2), both sides:
//   H = HASH(Hi ‖ Spub_r); C = KDF1(Ci, Epub_i); H = HASH(H ‖ Epub_i)
//   (C, k) = KDF2(C, DH(E_i, S_r));  static    = AEAD(k, 0, Spub_i, H); H = HASH(H ‖ static)
//   (C, k) = KDF2(C, DH(S_i, S_r));  timestamp = AEAD(k, 0, TAI64N, H); H = HASH(H ‖ timestamp)
// The responder decrypts the static key before it knows the peer, and only then looks the peer up.
public sealed partial class NoiseEngine
{
    private const int K = NoiseConstants.KeySize;

    /// <summary>
    /// Writes a 148-byte initiation (mac1/mac2 left zero) into <paramref name="message"/>.
    /// <paramref name="timestamp12"/> is the TAI64N of now. Returns false when there is no private key
    /// or the static-static DH is zero.
    /// </summary>
    public bool CreateInitiation(Handshake handshake, uint localIndex, ReadOnlySpan<byte> timestamp12, Span<byte> message)
    {
        ArgumentNullException.ThrowIfNull(handshake);
        if (timestamp12.Length != NoiseConstants.TimestampSize)
            throw new ArgumentException("A TAI64N timestamp is 12 bytes.", nameof(timestamp12));
        if (message.Length < MessageType.InitiationSize)
            throw new ArgumentException("An initiation needs 148 bytes.", nameof(message));
        message = message[..MessageType.InitiationSize];

        // Scratch: our public, ephemeral private, hash, chain key, DH result, AEAD key.
        Span<byte> scratch = stackalloc byte[6 * K];
        var staticPublic = scratch[..K];
        var ephemeral = scratch.Slice(K, K);
        var hash = scratch.Slice(2 * K, K);
        var chainKey = scratch.Slice(3 * K, K);
        var shared = scratch.Slice(4 * K, K);
        var key = scratch.Slice(5 * K, K);
        try
        {
            lock (handshake.Sync)
            {
                var generation = SnapshotIdentity(staticPublic, out var staticKey);
                if (generation < 0 || !EnsurePrecomputed(handshake, staticKey!, generation))
                    return false;

                InitiationMessage.WriteHeader(message, localIndex);
                var ephemeralPublic = message.Slice(InitiationMessage.EphemeralOffset, InitiationMessage.EphemeralSize);
                var encryptedStatic = message.Slice(InitiationMessage.StaticOffset, InitiationMessage.StaticSize);
                var encryptedTimestamp = message.Slice(InitiationMessage.TimestampOffset, InitiationMessage.TimestampSize);

                NoiseConstants.InitialHash.CopyTo(hash);
                NoiseConstants.InitialChainKey.CopyTo(chainKey);
                Kdf.MixHash(_crypto, hash, handshake.RemoteStatic);

                _crypto.GeneratePrivateKey(ephemeral);
                var ephemeralKey = _crypto.ImportPrivateKey(ephemeral);
                try
                {
                    ephemeralKey.WritePublicKey(ephemeralPublic);
                    Kdf.MixKey(_crypto, chainKey, ephemeralPublic);
                    Kdf.MixHash(_crypto, hash, ephemeralPublic);

                    if (!ephemeralKey.SharedSecret(handshake.RemoteStatic, shared))
                    {
                        message.Clear();
                        return false;
                    }
                    Kdf.Kdf2(_crypto, chainKey, shared, chainKey, key);
                    _crypto.Seal(key, 0, staticPublic, hash, encryptedStatic);
                    Kdf.MixHash(_crypto, hash, encryptedStatic);

                    Kdf.Kdf2(_crypto, chainKey, handshake.PrecomputedStaticStatic, chainKey, key);
                    _crypto.Seal(key, 0, timestamp12, hash, encryptedTimestamp);
                    Kdf.MixHash(_crypto, hash, encryptedTimestamp);

                    ephemeral.CopyTo(handshake.LocalEphemeral);
                    // Kept for the response's DH, so the key object (and its public key) is not built twice.
                    handshake.ReplaceLocalEphemeralKey(ephemeralKey);
                    ephemeralKey = null;
                    hash.CopyTo(handshake.Hash);
                    chainKey.CopyTo(handshake.ChainKey);
                    handshake.CurrentLocalIndex = localIndex;
                    handshake.CurrentState = HandshakeState.InitiationCreated;
                    return true;
                }
                finally
                {
                    ephemeralKey?.Dispose();
                }
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(scratch);
        }
    }

    /// <summary>
    /// Responder: authenticates a 148-byte initiation (MAC1 already checked by the caller) and returns the
    /// peer's handshake, now InitiationConsumed, or null: unknown static key, decryption failure, a
    /// timestamp not strictly greater than the last accepted one, or a second initiation from the same
    /// peer less than 20 ms after the previous accepted one (<paramref name="now"/> is monotonic time).
    /// On null nothing changes.
    /// </summary>
    public Handshake? ConsumeInitiation(ReadOnlySpan<byte> message, StaticKeyLookup lookup, TimeSpan now)
    {
        ArgumentNullException.ThrowIfNull(lookup);
        if (!InitiationMessage.IsWellFormed(message))
            return null;

        // Scratch: our public, hash, chain key, DH result, AEAD key, their static, timestamp.
        Span<byte> scratch = stackalloc byte[6 * K + NoiseConstants.TimestampSize];
        var staticPublic = scratch[..K];
        var hash = scratch.Slice(K, K);
        var chainKey = scratch.Slice(2 * K, K);
        var shared = scratch.Slice(3 * K, K);
        var key = scratch.Slice(4 * K, K);
        var remoteStatic = scratch.Slice(5 * K, K);
        var timestamp = scratch.Slice(6 * K, NoiseConstants.TimestampSize);
        try
        {
            var generation = SnapshotIdentity(staticPublic, out var staticKey);
            if (generation < 0)
                return null;

            var ephemeralPublic = InitiationMessage.Ephemeral(message);
            NoiseConstants.InitialHash.CopyTo(hash);
            Kdf.MixHash(_crypto, hash, staticPublic);
            Kdf.MixHash(_crypto, hash, ephemeralPublic);
            Kdf.Kdf1(_crypto, NoiseConstants.InitialChainKey, ephemeralPublic, chainKey);

            if (!staticKey!.SharedSecret(ephemeralPublic, shared))
                return null;
            Kdf.Kdf2(_crypto, chainKey, shared, chainKey, key);
            var encryptedStatic = InitiationMessage.EncryptedStatic(message);
            if (!_crypto.Open(key, 0, encryptedStatic, hash, remoteStatic))
                return null;
            Kdf.MixHash(_crypto, hash, encryptedStatic);

            // The lookup runs with no lock held: it is the device's code.
            var handshake = lookup(remoteStatic);
            if (handshake is null || !handshake.RemoteStatic.SequenceEqual(remoteStatic))
                return null;

            lock (handshake.Sync)
            {
                if (!EnsurePrecomputed(handshake, staticKey, generation))
                    return null;
                Kdf.Kdf2(_crypto, chainKey, handshake.PrecomputedStaticStatic, chainKey, key);
                var encryptedTimestamp = InitiationMessage.EncryptedTimestamp(message);
                if (!_crypto.Open(key, 0, encryptedTimestamp, hash, timestamp))
                    return null;
                Kdf.MixHash(_crypto, hash, encryptedTimestamp);

                // Replay: an attacker may resend a captured initiation; only a later timestamp is news.
                if (!Tai64N.IsAfter(timestamp, handshake.LastTimestamp))
                    return null;
                // Flood: a peer cannot make us do a DH-heavy response more often than every 20 ms.
                if (handshake.HasConsumedInitiation && now - handshake.LastInitiationConsumption <= NoiseConstants.InitiationRate)
                    return null;

                hash.CopyTo(handshake.Hash);
                chainKey.CopyTo(handshake.ChainKey);
                ephemeralPublic.CopyTo(handshake.RemoteEphemeral);
                timestamp.CopyTo(handshake.LastTimestamp);
                if (!handshake.HasConsumedInitiation || now > handshake.LastInitiationConsumption)
                    handshake.LastInitiationConsumption = now;
                handshake.HasConsumedInitiation = true;
                handshake.CurrentRemoteIndex = InitiationMessage.ReadSender(message);
                handshake.CurrentState = HandshakeState.InitiationConsumed;
                return handshake;
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(scratch);
        }
    }
}
