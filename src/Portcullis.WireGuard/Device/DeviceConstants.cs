namespace Portcullis.WireGuard.Device;

/// <summary>Constants from the WireGuard specification (whitepaper section 6). Do not tune these.</summary>
public static class ProtocolConstants
{
    public const ulong RekeyAfterMessages = 1UL << 60;
    public const ulong RejectAfterMessages = ulong.MaxValue - (1UL << 13);   // 2^64 - 2^13 - 1
    public static readonly TimeSpan RekeyAfterTime = TimeSpan.FromSeconds(120);
    public static readonly TimeSpan RekeyAttemptTime = TimeSpan.FromSeconds(90);
    public static readonly TimeSpan RekeyTimeout = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan RejectAfterTime = TimeSpan.FromSeconds(180);
    public static readonly TimeSpan KeepaliveTimeout = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan CookieRefreshTime = TimeSpan.FromSeconds(120);
    public static readonly TimeSpan HandshakeInitiationRate = TimeSpan.FromMilliseconds(20);

    /// <summary>After this long without a new handshake all key material is zeroed (3 × REJECT_AFTER_TIME).</summary>
    public static readonly TimeSpan ZeroKeyMaterialAfter = RejectAfterTime * 3;

    /// <summary>How many handshake attempts fit in REKEY_ATTEMPT_TIME.</summary>
    public const int MaxHandshakeAttempts = 18;                                // 90 s / 5 s

    /// <summary>Retransmissions wait REKEY_TIMEOUT plus up to this much random jitter.</summary>
    public const int RekeyTimeoutJitterMaxMilliseconds = 334;

    public const int PaddingMultiple = 16;
    public const int TagSize = 16;
}

/// <summary>Choices of this implementation, not of the protocol.</summary>
internal static class DeviceLimits
{
    /// <summary>Packets per batch through the pipelines at most (as recvmmsg/sendmmsg in wireguard-go).</summary>
    public const int BatchSize = 128;

    /// <summary>Batches in flight per direction; the pool bounds memory and provides backpressure.</summary>
    public const int BatchesPerDirection = 16;

    /// <summary>
    /// Bytes per packet buffer at the usual MTUs: header room + MTU + padding + tag fit for MTUs up to 4048. It is
    /// also the largest datagram a peer may send us then, whatever our MTU, so peers with other MTUs up to that work.
    /// </summary>
    public const int MinBufferSize = 4096;

    /// <summary>
    /// Buffer bytes per batch. A larger MTU means larger buffers and fewer of them per batch, so memory stays at
    /// <see cref="BatchesPerDirection"/> × this per direction (8 MiB) at any MTU.
    /// </summary>
    public const int BatchBytes = BatchSize * MinBufferSize;

    /// <summary>Transport header room kept in front of every outbound plaintext so sealing happens in place.</summary>
    public const int HeaderRoom = Messages.MessageType.TransportHeaderSize;

    /// <summary>Room after an outbound plaintext: padding to a multiple of 16, then the tag.</summary>
    public const int TrailerRoom = ProtocolConstants.PaddingMultiple + ProtocolConstants.TagSize;

    /// <summary>The largest MTU an interface can have (an IP packet's length field).</summary>
    public const int MaxMtu = 65535;

    /// <summary>The buffer size for <paramref name="mtu"/>: room for the message, rounded up to whole pages.</summary>
    public static int BufferSizeFor(int mtu)
    {
        var needed = HeaderRoom + Math.Clamp(mtu, 0, MaxMtu) + TrailerRoom;
        return Math.Max(MinBufferSize, (needed + MinBufferSize - 1) / MinBufferSize * MinBufferSize);
    }

    /// <summary>How many buffers of <paramref name="bufferSize"/> bytes a batch holds.</summary>
    public static int SlotsFor(int bufferSize) => Math.Clamp(BatchBytes / bufferSize, 1, BatchSize);

    public const int HandshakeQueueSize = 1024;

    /// <summary>Packets held per peer while a handshake is under way (wireguard-go: QueueStagedSize).</summary>
    public const int StagedPacketsPerPeer = 128;

    /// <summary>Handshake queue fill (1/8) above which we call ourselves under load.</summary>
    public const int UnderLoadThreshold = HandshakeQueueSize / 8;

    public static readonly TimeSpan UnderLoadHoldTime = TimeSpan.FromSeconds(1);

    public const int MaxPeers = 1 << 20;
}
