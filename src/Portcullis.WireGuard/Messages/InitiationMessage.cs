using System.Buffers.Binary;

namespace Portcullis.WireGuard.Messages;

/// <summary>
/// Layout of the 148-byte handshake initiation:
/// type(4) ‖ sender(4) ‖ ephemeral(32) ‖ AEAD(static)(32+16) ‖ AEAD(timestamp)(12+16) ‖ mac1(16) ‖ mac2(16).
/// </summary>
public static class InitiationMessage
{
    public const int SenderOffset = 4;
    public const int EphemeralOffset = 8;
    public const int EphemeralSize = 32;
    public const int StaticOffset = 40;
    public const int StaticSize = 32 + 16;
    public const int TimestampOffset = 88;
    public const int TimestampSize = 12 + 16;
    public const int Mac1Offset = 116;
    public const int Mac2Offset = 132;

    /// <summary>True when <paramref name="message"/> has the initiation type, zero reserved bytes and exactly 148 bytes.</summary>
    public static bool IsWellFormed(ReadOnlySpan<byte> message) => MessageHeader.Is(message, MessageType.Initiation);

    public static uint ReadSender(ReadOnlySpan<byte> message) =>
        BinaryPrimitives.ReadUInt32LittleEndian(message[SenderOffset..]);

    public static ReadOnlySpan<byte> Ephemeral(ReadOnlySpan<byte> message) => message.Slice(EphemeralOffset, EphemeralSize);

    public static ReadOnlySpan<byte> EncryptedStatic(ReadOnlySpan<byte> message) => message.Slice(StaticOffset, StaticSize);

    public static ReadOnlySpan<byte> EncryptedTimestamp(ReadOnlySpan<byte> message) => message.Slice(TimestampOffset, TimestampSize);

    internal static void WriteHeader(Span<byte> message, uint sender)
    {
        message[..MessageType.InitiationSize].Clear();
        MessageHeader.Write(message, MessageType.Initiation);
        BinaryPrimitives.WriteUInt32LittleEndian(message[SenderOffset..], sender);
    }
}
