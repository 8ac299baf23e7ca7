namespace Portcullis.WireGuard.Messages;

/// <summary>
/// MAC1 and MAC2 close every initiation and response: MAC1 covers everything before it, MAC2 everything
/// before MAC2 (MAC1 included).
/// </summary>
public static class MessageMacs
{
    /// <summary>True when the message is a well-formed initiation or response, the only messages that carry MACs.</summary>
    public static bool HasMacs(ReadOnlySpan<byte> message)
    {
        var type = MessageHeader.Classify(message);
        return type is MessageType.Initiation or MessageType.Response;
    }

    public static ReadOnlySpan<byte> Mac1(ReadOnlySpan<byte> message) => message.Slice(message.Length - 2 * MessageType.MacSize, MessageType.MacSize);

    public static ReadOnlySpan<byte> Mac2(ReadOnlySpan<byte> message) => message[^MessageType.MacSize..];

    /// <summary>The bytes MAC1 covers.</summary>
    public static ReadOnlySpan<byte> Mac1Covered(ReadOnlySpan<byte> message) => message[..^(2 * MessageType.MacSize)];

    /// <summary>The bytes MAC2 covers.</summary>
    public static ReadOnlySpan<byte> Mac2Covered(ReadOnlySpan<byte> message) => message[..^MessageType.MacSize];
}
