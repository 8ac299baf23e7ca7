using System.Buffers.Binary;

namespace Portcullis.WireGuard.Messages;

/// <summary>
/// Layout of the 64-byte cookie reply: type(4) ‖ receiver(4) ‖ nonce(24) ‖ XAEAD(cookie)(16+16).
/// The receiver is the sender index of the message being answered.
/// </summary>
public static class CookieReplyMessage
{
    public const int ReceiverOffset = 4;
    public const int NonceOffset = 8;
    public const int NonceSize = 24;
    public const int CookieOffset = 32;
    public const int CookieSize = 16 + 16;

    /// <summary>True when <paramref name="message"/> has the cookie-reply type, zero reserved bytes and exactly 64 bytes.</summary>
    public static bool IsWellFormed(ReadOnlySpan<byte> message) => MessageHeader.Is(message, MessageType.CookieReply);

    public static uint ReadReceiver(ReadOnlySpan<byte> message) =>
        BinaryPrimitives.ReadUInt32LittleEndian(message[ReceiverOffset..]);

    public static ReadOnlySpan<byte> Nonce(ReadOnlySpan<byte> message) => message.Slice(NonceOffset, NonceSize);

    public static ReadOnlySpan<byte> EncryptedCookie(ReadOnlySpan<byte> message) => message.Slice(CookieOffset, CookieSize);

    internal static void WriteHeader(Span<byte> message, uint receiver)
    {
        message[..MessageType.CookieReplySize].Clear();
        MessageHeader.Write(message, MessageType.CookieReply);
        BinaryPrimitives.WriteUInt32LittleEndian(message[ReceiverOffset..], receiver);
    }
}
