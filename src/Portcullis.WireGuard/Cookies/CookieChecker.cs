using System.Buffers.Binary;
using System.Security.Cryptography;
using Portcullis.Core.Io;
using Portcullis.WireGuard.Messages;

namespace Portcullis.WireGuard.Cookies;

/// <summary>
/// Responder side of WireGuard's DoS protection (wireguard-go's CookieChecker): checks MAC1 and MAC2 on
/// incoming handshake messages and writes cookie replies. The cookie secret rotates every 120 s.
/// Thread-safe; time is injected (monotonic).
/// </summary>
/// <remarks>
/// Cookie = MAC(secret, source address bytes ‖ source port big-endian). The secret is drawn when a reply
/// needs it and the old one is more than 120 s old; MAC2 is checked only against a secret younger than
/// that, so a cookie is worth at most two minutes.
/// </remarks>
public sealed partial class CookieChecker
{
    private const int MacSize = MessageType.MacSize;

    private readonly Crypto.IWireGuardCrypto _crypto;
    private readonly Lock _lock = new();
    private readonly byte[] _mac1Key = new byte[32];
    private readonly byte[] _cookieKey = new byte[32];
    private readonly byte[] _secret = GC.AllocateArray<byte>(32, pinned: true);
    private TimeSpan _secretSet;
    private bool _hasSecret;
    private bool _initialized;

    public CookieChecker(Crypto.IWireGuardCrypto crypto)
    {
        ArgumentNullException.ThrowIfNull(crypto);
        _crypto = crypto;
    }

    /// <summary>(Re)keys for our static public key (MAC1 key = HASH("mac1----" ‖ pk), cookie key = HASH("cookie--" ‖ pk)).</summary>
    public void Init(ReadOnlySpan<byte> localPublicKey32)
    {
        lock (_lock)
        {
            CookieKeys.DeriveMac1Key(_crypto, localPublicKey32, _mac1Key);
            CookieKeys.DeriveCookieKey(_crypto, localPublicKey32, _cookieKey);
            // Cookies handed out under the old identity are void.
            CryptographicOperations.ZeroMemory(_secret);
            _hasSecret = false;
            _initialized = true;
        }
    }

    /// <summary>True when the message's MAC1 (16 bytes at Length-32) is right. Message = whole initiation or response.</summary>
    public bool CheckMac1(ReadOnlySpan<byte> message)
    {
        if (!CookieKeys.HasMacs(message))
            return false;
        Span<byte> mac1 = stackalloc byte[MacSize];
        lock (_lock)
        {
            if (!_initialized)
                return false;
            _crypto.Mac(_mac1Key, MessageMacs.Mac1Covered(message), mac1);
        }
        return CryptographicOperations.FixedTimeEquals(mac1, MessageMacs.Mac1(message));
    }

    /// <summary>True when MAC2 (last 16 bytes) matches the cookie for <paramref name="source"/> (current secret).</summary>
    public bool CheckMac2(ReadOnlySpan<byte> message, UdpEndpoint source, TimeSpan now)
    {
        if (!CookieKeys.HasMacs(message))
            return false;
        Span<byte> cookie = stackalloc byte[MacSize];
        Span<byte> mac2 = stackalloc byte[MacSize];
        try
        {
            lock (_lock)
            {
                if (!_initialized || !SecretIsFresh(now))
                    return false;
                MakeCookie(source, cookie);
            }
            _crypto.Mac(cookie, MessageMacs.Mac2Covered(message), mac2);
            return CryptographicOperations.FixedTimeEquals(mac2, MessageMacs.Mac2(message));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(cookie);
        }
    }

    /// <summary>Writes a 64-byte cookie reply to <paramref name="message"/> (sender index read from it) for <paramref name="source"/>.</summary>
    public void CreateReply(ReadOnlySpan<byte> message, UdpEndpoint source, TimeSpan now, Span<byte> reply)
    {
        if (!CookieKeys.HasMacs(message))
            throw new ArgumentException("Only an initiation or a response is answered with a cookie reply.", nameof(message));
        if (reply.Length < MessageType.CookieReplySize)
            throw new ArgumentException("A cookie reply needs 64 bytes.", nameof(reply));
        reply = reply[..MessageType.CookieReplySize];

        // Initiation and response both carry their sender index at offset 4.
        var sender = BinaryPrimitives.ReadUInt32LittleEndian(message[InitiationMessage.SenderOffset..]);
        Span<byte> cookie = stackalloc byte[MacSize];
        try
        {
            lock (_lock)
            {
                if (!_initialized)
                    throw new InvalidOperationException("Init must be called before CreateReply.");
                if (!SecretIsFresh(now))
                {
                    _crypto.RandomBytes(_secret);
                    _secretSet = now;
                    _hasSecret = true;
                }
                MakeCookie(source, cookie);

                CookieReplyMessage.WriteHeader(reply, sender);
                var nonce = reply.Slice(CookieReplyMessage.NonceOffset, CookieReplyMessage.NonceSize);
                _crypto.RandomBytes(nonce);
                _crypto.XSeal(_cookieKey, nonce, cookie, MessageMacs.Mac1(message),
                    reply.Slice(CookieReplyMessage.CookieOffset, CookieReplyMessage.CookieSize));
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(cookie);
        }
    }

    private bool SecretIsFresh(TimeSpan now) => _hasSecret && now - _secretSet <= CookieKeys.SecretMaxAge;

    /// <summary>Cookie = MAC(secret, address ‖ port big-endian). Caller holds the lock.</summary>
    private void MakeCookie(UdpEndpoint source, Span<byte> cookie16)
    {
        Span<byte> input = stackalloc byte[18];
        var length = source.WriteAddress(input);
        BinaryPrimitives.WriteUInt16BigEndian(input[length..], source.Port);
        _crypto.Mac(_secret, input[..(length + 2)], cookie16);
    }
}
