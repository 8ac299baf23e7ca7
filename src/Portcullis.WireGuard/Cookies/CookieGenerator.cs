using System.Security.Cryptography;
using Portcullis.WireGuard.Messages;

namespace Portcullis.WireGuard.Cookies;

/// <summary>
/// Initiator side, one per peer (wireguard-go's CookieGenerator): adds MAC1, and MAC2 while a cookie
/// received less than 120 s ago is held; consumes cookie replies. Thread-safe; time injected (monotonic).
/// </summary>
/// <remarks>
/// A reply is accepted only once and only for the last message we sent MACs for (its MAC1 is the XAEAD's
/// associated data), as the kernel does, so a replayed reply is refused. A cookie is used for
/// 115 s: a little less than the responder's 120 s secret, to stop before the responder rotates.
/// </remarks>
public sealed partial class CookieGenerator
{
    private const int MacSize = MessageType.MacSize;

    private readonly Crypto.IWireGuardCrypto _crypto;
    private readonly Lock _lock = new();
    private readonly byte[] _mac1Key = new byte[32];
    private readonly byte[] _cookieKey = new byte[32];
    private readonly byte[] _cookie = GC.AllocateArray<byte>(MacSize, pinned: true);
    private readonly byte[] _lastMac1 = new byte[MacSize];
    private TimeSpan _cookieSet;
    private bool _hasCookie;
    private bool _hasLastMac1;
    private bool _initialized;

    public CookieGenerator(Crypto.IWireGuardCrypto crypto)
    {
        ArgumentNullException.ThrowIfNull(crypto);
        _crypto = crypto;
    }

    /// <summary>(Re)keys for the peer's static public key.</summary>
    public void Init(ReadOnlySpan<byte> remotePublicKey32)
    {
        lock (_lock)
        {
            CookieKeys.DeriveMac1Key(_crypto, remotePublicKey32, _mac1Key);
            CookieKeys.DeriveCookieKey(_crypto, remotePublicKey32, _cookieKey);
            CryptographicOperations.ZeroMemory(_cookie);
            _hasCookie = false;
            _hasLastMac1 = false;
            _initialized = true;
        }
    }

    /// <summary>Fills MAC1 and MAC2 (last 32 bytes) of an outgoing initiation or response; MAC2 stays zero without a fresh cookie.</summary>
    public void AddMacs(Span<byte> message, TimeSpan now)
    {
        if (!CookieKeys.HasMacs(message))
            throw new ArgumentException("Only a whole initiation or response carries MACs.", nameof(message));
        var mac1 = message.Slice(message.Length - 2 * MacSize, MacSize);
        var mac2 = message[^MacSize..];
        lock (_lock)
        {
            if (!_initialized)
                throw new InvalidOperationException("Init must be called before AddMacs.");
            _crypto.Mac(_mac1Key, MessageMacs.Mac1Covered(message), mac1);
            mac1.CopyTo(_lastMac1);
            _hasLastMac1 = true;

            if (_hasCookie && now - _cookieSet <= CookieKeys.CookieUseTime)
                _crypto.Mac(_cookie, MessageMacs.Mac2Covered(message), mac2);
            else
                mac2.Clear();
        }
    }

    /// <summary>Decrypts a 64-byte cookie reply answering the last message we sent MACs for; false when it does not authenticate.</summary>
    public bool ConsumeReply(ReadOnlySpan<byte> reply, TimeSpan now)
    {
        if (!CookieReplyMessage.IsWellFormed(reply))
            return false;
        Span<byte> cookie = stackalloc byte[MacSize];
        try
        {
            lock (_lock)
            {
                if (!_initialized || !_hasLastMac1)
                    return false;
                if (!_crypto.XOpen(_cookieKey, CookieReplyMessage.Nonce(reply), CookieReplyMessage.EncryptedCookie(reply), _lastMac1, cookie))
                    return false;
                cookie.CopyTo(_cookie);
                _cookieSet = now;
                _hasCookie = true;
                _hasLastMac1 = false;
                return true;
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(cookie);
        }
    }
}
