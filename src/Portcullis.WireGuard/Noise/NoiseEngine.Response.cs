using System.Security.Cryptography;
using Portcullis.WireGuard.Crypto;
using Portcullis.WireGuard.Messages;

namespace Portcullis.WireGuard.Noise;

// The second message (whitepaper §5.4.3), both sides, continuing from the initiation's H and C:
//   C = KDF1(C, Epub_r); H = HASH(H ‖ Epub_r)
//   C = KDF1(C, DH(E_r, E_i)); C = KDF1(C, DH(E_r, S_i))
//   (C, τ, k) = KDF3(C, Q); H = HASH(H ‖ τ); empty = AEAD(k, 0, ε, H); H = HASH(H ‖ empty)
// Q is the preshared key (all zero when none), which is what makes a PSK mismatch fail right here.
public sealed partial class NoiseEngine
{
    /// <summary>Writes a 92-byte response (mac1/mac2 left zero) to a consumed initiation. False when the state is wrong.</summary>
    public bool CreateResponse(Handshake handshake, uint localIndex, Span<byte> message)
    {
        ArgumentNullException.ThrowIfNull(handshake);
        if (message.Length < MessageType.ResponseSize)
            throw new ArgumentException("A response needs 92 bytes.", nameof(message));
        message = message[..MessageType.ResponseSize];

        // Scratch: ephemeral private, hash, chain key, DH result, τ, AEAD key.
        Span<byte> scratch = stackalloc byte[6 * K];
        var ephemeral = scratch[..K];
        var hash = scratch.Slice(K, K);
        var chainKey = scratch.Slice(2 * K, K);
        var shared = scratch.Slice(3 * K, K);
        var tau = scratch.Slice(4 * K, K);
        var key = scratch.Slice(5 * K, K);
        try
        {
            lock (handshake.Sync)
            {
                if (handshake.CurrentState != HandshakeState.InitiationConsumed)
                    return false;

                ResponseMessage.WriteHeader(message, localIndex, handshake.CurrentRemoteIndex);
                var ephemeralPublic = message.Slice(ResponseMessage.EphemeralOffset, ResponseMessage.EphemeralSize);
                var encryptedEmpty = message.Slice(ResponseMessage.EmptyOffset, ResponseMessage.EmptySize);

                handshake.Hash.CopyTo(hash);
                handshake.ChainKey.CopyTo(chainKey);

                _crypto.GeneratePrivateKey(ephemeral);
                using var ephemeralKey = _crypto.ImportPrivateKey(ephemeral);
                ephemeralKey.WritePublicKey(ephemeralPublic);
                Kdf.MixHash(_crypto, hash, ephemeralPublic);
                Kdf.MixKey(_crypto, chainKey, ephemeralPublic);

                if (!MixDh(chainKey, ephemeralKey, handshake.RemoteEphemeral, shared) ||
                    !MixDh(chainKey, ephemeralKey, handshake.RemoteStatic, shared))
                {
                    message.Clear();
                    return false;
                }

                Kdf.Kdf3(_crypto, chainKey, handshake.PresharedKey, chainKey, tau, key);
                Kdf.MixHash(_crypto, hash, tau);
                _crypto.Seal(key, 0, [], hash, encryptedEmpty);
                Kdf.MixHash(_crypto, hash, encryptedEmpty);

                ephemeral.CopyTo(handshake.LocalEphemeral);
                // An initiation of ours that crossed theirs is dead now; so is its ephemeral.
                handshake.ReplaceLocalEphemeralKey(null);
                hash.CopyTo(handshake.Hash);
                chainKey.CopyTo(handshake.ChainKey);
                handshake.CurrentLocalIndex = localIndex;
                handshake.CurrentState = HandshakeState.ResponseCreated;
                return true;
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(scratch);
        }
    }

    /// <summary>Initiator: authenticates a 92-byte response addressed to one of our indices; returns the handshake, now ResponseConsumed, or null.</summary>
    public Handshake? ConsumeResponse(ReadOnlySpan<byte> message, LocalIndexLookup lookup)
    {
        ArgumentNullException.ThrowIfNull(lookup);
        if (!ResponseMessage.IsWellFormed(message))
            return null;

        var receiver = ResponseMessage.ReadReceiver(message);
        var handshake = lookup(receiver);
        if (handshake is null)
            return null;

        // Scratch: our public, hash, chain key, DH result, τ, AEAD key.
        Span<byte> scratch = stackalloc byte[6 * K];
        var staticPublic = scratch[..K];
        var hash = scratch.Slice(K, K);
        var chainKey = scratch.Slice(2 * K, K);
        var shared = scratch.Slice(3 * K, K);
        var tau = scratch.Slice(4 * K, K);
        var key = scratch.Slice(5 * K, K);
        try
        {
            lock (handshake.Sync)
            {
                // The index must still be this handshake's: a response to an older initiation is stale.
                if (handshake.CurrentState != HandshakeState.InitiationCreated || handshake.CurrentLocalIndex != receiver)
                    return null;
                if (SnapshotIdentity(staticPublic, out var staticKey) < 0)
                    return null;

                var ephemeralPublic = ResponseMessage.Ephemeral(message);
                handshake.Hash.CopyTo(hash);
                handshake.ChainKey.CopyTo(chainKey);
                Kdf.MixHash(_crypto, hash, ephemeralPublic);
                Kdf.MixKey(_crypto, chainKey, ephemeralPublic);

                // The initiation's ephemeral key object; built from the bytes only when that one is gone.
                using var rebuilt = handshake.LocalEphemeralKey is null ? _crypto.ImportPrivateKey(handshake.LocalEphemeral) : null;
                var ephemeralKey = handshake.LocalEphemeralKey ?? rebuilt!;
                if (!MixDh(chainKey, ephemeralKey, ephemeralPublic, shared) ||
                    !MixDh(chainKey, staticKey!, ephemeralPublic, shared))
                    return null;

                Kdf.Kdf3(_crypto, chainKey, handshake.PresharedKey, chainKey, tau, key);
                Kdf.MixHash(_crypto, hash, tau);
                var encryptedEmpty = ResponseMessage.EncryptedEmpty(message);
                if (!_crypto.Open(key, 0, encryptedEmpty, hash, []))
                    return null;
                Kdf.MixHash(_crypto, hash, encryptedEmpty);

                hash.CopyTo(handshake.Hash);
                chainKey.CopyTo(handshake.ChainKey);
                handshake.CurrentRemoteIndex = ResponseMessage.ReadSender(message);
                handshake.CurrentState = HandshakeState.ResponseConsumed;
                return handshake;
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(scratch);
        }
    }

    /// <summary>C = KDF1(C, DH(privateKey, publicKey)); false when the DH is all zero (a low-order point).</summary>
    private bool MixDh(Span<byte> chainKey, IDhKey privateKey, ReadOnlySpan<byte> publicKey32, Span<byte> shared32)
    {
        if (!privateKey.SharedSecret(publicKey32, shared32))
            return false;
        Kdf.MixKey(_crypto, chainKey, shared32);
        return true;
    }
}
