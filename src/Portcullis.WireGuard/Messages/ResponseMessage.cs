using System.Buffers.Binary;

namespace Portcullis.WireGuard.Messages;

/// <summary>
/// Layout of the 92-byte handshake response:
/// type(4) ‖ sender(4) ‖ receiver(4) ‖ ephemeral(32) ‖ AEAD(nothing)(16) ‖ mac1(16) ‖ mac2(16).
/// </summary>
public static class ResponseMessage
{
    public const int SenderOffset = 4;
    public const int ReceiverOffset = 8;
    public const int EphemeralOffset = 12;
    public const int EphemeralSize = 32;
    public const int EmptyOffset = 44;
    public const int EmptySize = 16;
    public const int Mac1Offset = 60;
    public const int Mac2Offset = 76;

    /// <summary>True when <paramref name="message"/> has the response type, zero reserved bytes and exactly 92 bytes.</summary>
    public static bool IsWellFormed(ReadOnlySpan<byte> message) => MessageHeader.Is(message, MessageType.Response);

    public static uint ReadSender(ReadOnlySpan<byte> message) =>
        BinaryPrimitives.ReadUInt32LittleEndian(message[SenderOffset..]);

    public static uint ReadReceiver(ReadOnlySpan<byte> message) =>
        BinaryPrimitives.ReadUInt32LittleEndian(message[ReceiverOffset..]);

    public static ReadOnlySpan<byte> Ephemeral(ReadOnlySpan<byte> message) => message.Slice(EphemeralOffset, EphemeralSize);

    public static ReadOnlySpan<byte> EncryptedEmpty(ReadOnlySpan<byte> message) => message.Slice(EmptyOffset, EmptySize);

    internal static void WriteHeader(Span<byte> message, uint sender, uint receiver)
    {
        message[..MessageType.ResponseSize].Clear();
        MessageHeader.Write(message, MessageType.Response);
        BinaryPrimitives.WriteUInt32LittleEndian(message[SenderOffset..], sender);
        BinaryPrimitives.WriteUInt32LittleEndian(message[ReceiverOffset..], receiver);
    }
}
