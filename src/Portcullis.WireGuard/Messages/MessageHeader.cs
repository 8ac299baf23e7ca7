using System.Buffers.Binary;

namespace Portcullis.WireGuard.Messages;

/// <summary>
/// The 4-byte header every message opens with: the type, then three reserved zero bytes. Read as one
/// little-endian word, as the kernel does, so a non-zero reserved byte makes an unknown type.
/// </summary>
public static class MessageHeader
{
    /// <summary>
    /// The message type when the header is well formed and the length fits the type (handshake messages
    /// exactly their size, transport at least a keepalive); 0 otherwise.
    /// </summary>
    public static byte Classify(ReadOnlySpan<byte> packet)
    {
        if (packet.Length < 4)
            return 0;
        var word = BinaryPrimitives.ReadUInt32LittleEndian(packet);
        return word switch
        {
            MessageType.Initiation when packet.Length == MessageType.InitiationSize => MessageType.Initiation,
            MessageType.Response when packet.Length == MessageType.ResponseSize => MessageType.Response,
            MessageType.CookieReply when packet.Length == MessageType.CookieReplySize => MessageType.CookieReply,
            MessageType.Transport when packet.Length >= MessageType.TransportMinimumSize => MessageType.Transport,
            _ => 0,
        };
    }

    /// <summary>True when <paramref name="packet"/> is exactly a well-formed header of <paramref name="type"/> with its size.</summary>
    public static bool Is(ReadOnlySpan<byte> packet, byte type) => type != 0 && Classify(packet) == type;

    internal static void Write(Span<byte> message, byte type) =>
        BinaryPrimitives.WriteUInt32LittleEndian(message, type);
}
