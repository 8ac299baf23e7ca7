using Portcullis.WireGuard.Crypto;
using Portcullis.WireGuard.Noise;

namespace Portcullis.WireGuard.Cookies;

/// <summary>Key derivations and timing shared by both cookie sides (whitepaper §5.4.4, §5.4.7).</summary>
internal static class CookieKeys
{
    /// <summary>How long a cookie secret lives before the checker draws a new one (COOKIE_SECRET_MAX_AGE).</summary>
    public static readonly TimeSpan SecretMaxAge = TimeSpan.FromSeconds(120);

    /// <summary>
    /// How long a received cookie is used for MAC2: a little less than the secret's age, so we stop using
    /// it before the responder rotates (the kernel's COOKIE_SECRET_MAX_AGE - COOKIE_SECRET_LATENCY).
    /// </summary>
    public static readonly TimeSpan CookieUseTime = SecretMaxAge - TimeSpan.FromSeconds(5);

    private static ReadOnlySpan<byte> LabelMac1 => "mac1----"u8;
    private static ReadOnlySpan<byte> LabelCookie => "cookie--"u8;

    /// <summary>MAC1 key = HASH("mac1----" ‖ public key of the message's receiver).</summary>
    public static void DeriveMac1Key(IWireGuardCrypto crypto, ReadOnlySpan<byte> publicKey32, Span<byte> key32) =>
        crypto.Hash(LabelMac1, CheckKey(publicKey32), key32);

    /// <summary>Cookie-reply encryption key = HASH("cookie--" ‖ public key of the responder).</summary>
    public static void DeriveCookieKey(IWireGuardCrypto crypto, ReadOnlySpan<byte> publicKey32, Span<byte> key32) =>
        crypto.Hash(LabelCookie, CheckKey(publicKey32), key32);

    /// <summary>True when the message is an initiation or response (the only ones with MACs) of the right size.</summary>
    public static bool HasMacs(ReadOnlySpan<byte> message) => Messages.MessageMacs.HasMacs(message);

    private static ReadOnlySpan<byte> CheckKey(ReadOnlySpan<byte> publicKey32)
    {
        if (publicKey32.Length != NoiseConstants.KeySize)
            throw new ArgumentException("A public key is 32 bytes.", nameof(publicKey32));
        return publicKey32;
    }
}
