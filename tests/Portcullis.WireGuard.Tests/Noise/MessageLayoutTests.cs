using Portcullis.WireGuard.Messages;

namespace Portcullis.WireGuard.Tests.Noise;

/// <summary>The message layouts the handshake reads and writes: sizes, offsets, and what readers refuse.</summary>
public sealed class MessageLayoutTests
{
    [Fact]
    public void Offsets_AddUpToSpecificationSizes()
    {
        Assert.Equal(MessageType.InitiationSize, InitiationMessage.Mac2Offset + MessageType.MacSize);
        Assert.Equal(InitiationMessage.Mac1Offset, InitiationMessage.TimestampOffset + InitiationMessage.TimestampSize);
        Assert.Equal(InitiationMessage.TimestampOffset, InitiationMessage.StaticOffset + InitiationMessage.StaticSize);
        Assert.Equal(MessageType.ResponseSize, ResponseMessage.Mac2Offset + MessageType.MacSize);
        Assert.Equal(ResponseMessage.Mac1Offset, ResponseMessage.EmptyOffset + ResponseMessage.EmptySize);
        Assert.Equal(MessageType.CookieReplySize, CookieReplyMessage.CookieOffset + CookieReplyMessage.CookieSize);
    }

    [Theory]
    [InlineData(MessageType.Initiation, MessageType.InitiationSize, MessageType.Initiation)]
    [InlineData(MessageType.Initiation, MessageType.InitiationSize + 1, 0)]
    [InlineData(MessageType.Initiation, MessageType.InitiationSize - 1, 0)]
    [InlineData(MessageType.Response, MessageType.ResponseSize, MessageType.Response)]
    [InlineData(MessageType.Response, MessageType.InitiationSize, 0)]
    [InlineData(MessageType.CookieReply, MessageType.CookieReplySize, MessageType.CookieReply)]
    [InlineData(MessageType.CookieReply, MessageType.CookieReplySize + 16, 0)]
    [InlineData(MessageType.Transport, MessageType.TransportMinimumSize, MessageType.Transport)]
    [InlineData(MessageType.Transport, MessageType.TransportMinimumSize + 100, MessageType.Transport)]
    [InlineData(MessageType.Transport, MessageType.TransportMinimumSize - 1, 0)]
    [InlineData(5, 148, 0)]
    [InlineData(0, 148, 0)]
    public void Classify_TypeAndLength_AcceptsOnlyExactSizes(byte type, int length, byte expected)
    {
        var packet = new byte[length];
        packet[0] = type;

        Assert.Equal(expected, MessageHeader.Classify(packet));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Classify_NonZeroReservedByte_Rejected(int reservedByte)
    {
        var packet = new byte[MessageType.InitiationSize];
        packet[0] = MessageType.Initiation;
        packet[reservedByte] = 1;

        Assert.Equal(0, MessageHeader.Classify(packet));
        Assert.False(InitiationMessage.IsWellFormed(packet));
    }

    [Fact]
    public void Classify_ShorterThanHeader_Rejected()
    {
        Assert.Equal(0, MessageHeader.Classify([]));
        Assert.Equal(0, MessageHeader.Classify([MessageType.Transport, 0, 0]));
    }

    [Fact]
    public void Readers_LittleEndianIndices_ReadFromTheirOffsets()
    {
        var response = new byte[MessageType.ResponseSize];
        response[0] = MessageType.Response;
        response[4] = 0x78; response[5] = 0x56; response[6] = 0x34; response[7] = 0x12;
        response[8] = 0x01; response[11] = 0x80;

        Assert.True(ResponseMessage.IsWellFormed(response));
        Assert.Equal(0x12345678u, ResponseMessage.ReadSender(response));
        Assert.Equal(0x80000001u, ResponseMessage.ReadReceiver(response));
        Assert.Equal(response.AsSpan(60, 16).ToArray(), MessageMacs.Mac1(response).ToArray());
        Assert.Equal(response.AsSpan(76, 16).ToArray(), MessageMacs.Mac2(response).ToArray());
    }
}
