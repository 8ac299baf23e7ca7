namespace Portcullis.WireGuard.Noise;

// Transport keys (whitepaper §5.4.5): (T1, T2) = KDF2(C, ε). The initiator sends with T1 and receives
// with T2; the responder the other way round. Then the handshake's secrets are spent and zeroed.
public sealed partial class NoiseEngine
{
    /// <summary>
    /// Derives the transport keys from a handshake in state ResponseCreated (responder) or ResponseConsumed
    /// (initiator), then clears the handshake (keeping its timestamp and flood-check state). False in any other state.
    /// </summary>
    /// <remarks>
    /// As in wireguard-go, LocalIndex becomes 0 afterwards: the index now belongs to the new keypair
    /// (returned in <paramref name="indices"/>), not to the handshake.
    /// </remarks>
    public bool BeginSession(Handshake handshake, Span<byte> sendKey32, Span<byte> receiveKey32, out SessionIndices indices)
    {
        ArgumentNullException.ThrowIfNull(handshake);
        if (sendKey32.Length < K || receiveKey32.Length < K)
            throw new ArgumentException("Transport keys are 32 bytes.");
        indices = default;
        lock (handshake.Sync)
        {
            bool isInitiator;
            switch (handshake.CurrentState)
            {
                case HandshakeState.ResponseConsumed:
                    Kdf.Kdf2(_crypto, handshake.ChainKey, [], sendKey32[..K], receiveKey32[..K]);
                    isInitiator = true;
                    break;
                case HandshakeState.ResponseCreated:
                    Kdf.Kdf2(_crypto, handshake.ChainKey, [], receiveKey32[..K], sendKey32[..K]);
                    isInitiator = false;
                    break;
                default:
                    return false;
            }

            indices = new SessionIndices(handshake.CurrentLocalIndex, handshake.CurrentRemoteIndex, isInitiator);
            handshake.ClearLocked();
            return true;
        }
    }
}

/// <summary>The indices of a new session: ours (receiver index on incoming packets) and theirs (what we put on outgoing ones).</summary>
public readonly record struct SessionIndices(uint LocalIndex, uint RemoteIndex, bool IsInitiator);
