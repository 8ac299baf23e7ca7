namespace Portcullis.WireGuard.Messages;

/// <summary>
/// The four message types and their sizes (specification constants). First byte is the type, then three
/// reserved zero bytes; all integers little-endian.
/// </summary>
public static class MessageType
{
    public const byte Initiation = 1;
    public const byte Response = 2;
    public const byte CookieReply = 3;
    public const byte Transport = 4;

    public const int InitiationSize = 148;
    public const int ResponseSize = 92;
    public const int CookieReplySize = 64;
    public const int TransportHeaderSize = 16;
    public const int TransportMinimumSize = TransportHeaderSize + 16; // keepalive: empty plaintext + tag

    /// <summary>Offsets of the transport header fields.</summary>
    public const int TransportReceiverOffset = 4;
    public const int TransportCounterOffset = 8;

    /// <summary>Size of the MAC1 and MAC2 fields that close every initiation and response.</summary>
    public const int MacSize = 16;
}
