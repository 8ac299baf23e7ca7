using Portcullis.Core.Io;

namespace Portcullis.WireGuard.Cookies;

/// <summary>
/// Responder side of WireGuard's DoS protection (wireguard-go's CookieChecker): checks MAC1 and MAC2 on
/// incoming handshake messages and writes cookie replies. The cookie secret rotates every 120 s.
/// Thread-safe; time is injected (monotonic).
/// </summary>
public sealed partial class CookieChecker
{
    public CookieChecker(Crypto.IWireGuardCrypto crypto) => throw new NotImplementedException();

    /// <summary>(Re)keys for our static public key (MAC1 key = HASH("mac1----" ‖ pk), cookie key = HASH("cookie--" ‖ pk)).</summary>
    public void Init(ReadOnlySpan<byte> localPublicKey32) => throw new NotImplementedException();

    /// <summary>True when the message's MAC1 (16 bytes at Length-32) is right. Message = whole initiation or response.</summary>
    public bool CheckMac1(ReadOnlySpan<byte> message) => throw new NotImplementedException();

    /// <summary>True when MAC2 (last 16 bytes) matches the cookie for <paramref name="source"/> (current secret).</summary>
    public bool CheckMac2(ReadOnlySpan<byte> message, UdpEndpoint source, TimeSpan now) => throw new NotImplementedException();

    /// <summary>Writes a 64-byte cookie reply to <paramref name="message"/> (sender index read from it) for <paramref name="source"/>.</summary>
    public void CreateReply(ReadOnlySpan<byte> message, UdpEndpoint source, TimeSpan now, Span<byte> reply) => throw new NotImplementedException();
}
