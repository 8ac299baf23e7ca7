namespace Portcullis.WireGuard.Noise;

/// <summary>Specification constants of WireGuard's Noise_IKpsk2 (whitepaper §5.4) and our implementation limits.</summary>
public static class NoiseConstants
{
    public const string Construction = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
    public const string Identifier = "WireGuard v1 zx2c4 Jason@zx2c4.com";
    public const string LabelMac1 = "mac1----";
    public const string LabelCookie = "cookie--";

    public const int KeySize = 32;
    public const int HashSize = 32;
    public const int TagSize = 16;
    public const int TimestampSize = 12;

    /// <summary>Initiations from one peer closer together than this are dropped (wireguard-go's HandshakeInitationRate).</summary>
    public static readonly TimeSpan InitiationRate = TimeSpan.FromMilliseconds(20);

    /// <summary>Ci = HASH(CONSTRUCTION); tests recompute it.</summary>
    internal static ReadOnlySpan<byte> InitialChainKey =>
    [
        0x60, 0xe2, 0x6d, 0xae, 0xf3, 0x27, 0xef, 0xc0, 0x2e, 0xc3, 0x35, 0xe2, 0xa0, 0x25, 0xd2, 0xd0,
        0x16, 0xeb, 0x42, 0x06, 0xf8, 0x72, 0x77, 0xf5, 0x2d, 0x38, 0xd1, 0x98, 0x8b, 0x78, 0xcd, 0x36,
    ];

    /// <summary>Hi = HASH(Ci ‖ IDENTIFIER); tests recompute it.</summary>
    internal static ReadOnlySpan<byte> InitialHash =>
    [
        0x22, 0x11, 0xb3, 0x61, 0x08, 0x1a, 0xc5, 0x66, 0x69, 0x12, 0x43, 0xdb, 0x45, 0x8a, 0xd5, 0x32,
        0x2d, 0x9c, 0x6c, 0x66, 0x22, 0x93, 0xe8, 0xb7, 0x0e, 0xe1, 0x9c, 0x65, 0xba, 0x07, 0x9e, 0xf3,
    ];
}
