namespace Portcullis.WireGuard.Cookies;

/// <summary>
/// Initiator side, one per peer (wireguard-go's CookieGenerator): adds MAC1, and MAC2 while a cookie
/// received less than 120 s ago is held; consumes cookie replies. Thread-safe; time injected (monotonic).
/// </summary>
public sealed partial class CookieGenerator
{
    public CookieGenerator(Crypto.IWireGuardCrypto crypto) => throw new NotImplementedException();

    /// <summary>(Re)keys for the peer's static public key.</summary>
    public void Init(ReadOnlySpan<byte> remotePublicKey32) => throw new NotImplementedException();

    /// <summary>Fills MAC1 and MAC2 (last 32 bytes) of an outgoing initiation or response; MAC2 stays zero without a fresh cookie.</summary>
    public void AddMacs(Span<byte> message, TimeSpan now) => throw new NotImplementedException();

    /// <summary>Decrypts a 64-byte cookie reply answering the last message we sent MACs for; false when it does not authenticate.</summary>
    public bool ConsumeReply(ReadOnlySpan<byte> reply, TimeSpan now) => throw new NotImplementedException();
}
