using Portcullis.Linux.Interop;
using Portcullis.Linux.Links;

namespace Portcullis.Linux.Tests.Interop;

public sealed unsafe class NativeLayoutTests
{
    [Fact]
    public void Sizes_MatchLinuxLp64Abi()
    {
        Assert.Equal(8, sizeof(PollFd));
        Assert.Equal(16, sizeof(IoVec));
        Assert.Equal(56, sizeof(MsgHdr));
        Assert.Equal(64, sizeof(MMsgHdr));
    }

    [Fact]
    public void FindAck_ErrorWithExtendedAckText_ReturnsErrnoAndText()
    {
        // nlmsghdr(NLMSG_ERROR, capped | ack TLVs) + error -17 + echoed header + NLMSGERR_ATTR_MSG "exists".
        var message = new byte[16 + 4 + 16 + 12];
        BitConverter.TryWriteBytes(message.AsSpan(0), message.Length);
        BitConverter.TryWriteBytes(message.AsSpan(4), (ushort)2);
        BitConverter.TryWriteBytes(message.AsSpan(6), (ushort)0x300);
        BitConverter.TryWriteBytes(message.AsSpan(8), 77u);
        BitConverter.TryWriteBytes(message.AsSpan(16), -17);
        BitConverter.TryWriteBytes(message.AsSpan(36), (ushort)11);
        BitConverter.TryWriteBytes(message.AsSpan(38), (ushort)1);
        "exists\0"u8.CopyTo(message.AsSpan(40));

        Assert.True(NetlinkSocket.FindAck(message, 77, out var error, out var text));
        Assert.Equal(-17, error);
        Assert.Equal("exists", text);
        Assert.False(NetlinkSocket.FindAck(message, 78, out _, out _));
    }

    [Theory]
    [InlineData(0xfff50028u)] // found by fuzz/run rtnetlink-ack: read as an int, a negative offset
    [InlineData(0x7fffffffu)] // aligning it overflowed to a negative offset too
    [InlineData(0x100u)]      // longer than the message
    [InlineData(4u)]          // shorter than a header
    public void FindAck_EchoedRequestLengthOutsideMessage_ErrnoWithoutText(uint echoedLength)
    {
        // nlmsghdr(NLMSG_ERROR, ack TLVs, not capped) + error -22 + the echoed request's header claiming echoedLength.
        var message = new byte[16 + 4 + 16 + 12];
        BitConverter.TryWriteBytes(message.AsSpan(0), message.Length);
        BitConverter.TryWriteBytes(message.AsSpan(4), (ushort)2);
        BitConverter.TryWriteBytes(message.AsSpan(6), (ushort)0x200);
        BitConverter.TryWriteBytes(message.AsSpan(8), 42u);
        BitConverter.TryWriteBytes(message.AsSpan(16), -22);
        BitConverter.TryWriteBytes(message.AsSpan(20), echoedLength);
        BitConverter.TryWriteBytes(message.AsSpan(36), (ushort)11);
        BitConverter.TryWriteBytes(message.AsSpan(38), (ushort)1);
        "exists\0"u8.CopyTo(message.AsSpan(40));

        Assert.True(NetlinkSocket.FindAck(message, 42, out var error, out var text));
        Assert.Equal(-22, error);
        Assert.Null(text);
    }

    [Fact]
    public void FindAck_UncappedErrorEchoingWholeRequest_ReadsTextAfterIt()
    {
        // Not capped: the whole 24-byte request comes back before the TLVs.
        var message = new byte[16 + 4 + 24 + 12];
        BitConverter.TryWriteBytes(message.AsSpan(0), message.Length);
        BitConverter.TryWriteBytes(message.AsSpan(4), (ushort)2);
        BitConverter.TryWriteBytes(message.AsSpan(6), (ushort)0x200);
        BitConverter.TryWriteBytes(message.AsSpan(8), 42u);
        BitConverter.TryWriteBytes(message.AsSpan(16), -22);
        BitConverter.TryWriteBytes(message.AsSpan(20), 24u);
        BitConverter.TryWriteBytes(message.AsSpan(44), (ushort)11);
        BitConverter.TryWriteBytes(message.AsSpan(46), (ushort)1);
        "exists\0"u8.CopyTo(message.AsSpan(48));

        Assert.True(NetlinkSocket.FindAck(message, 42, out var error, out var text));
        Assert.Equal(-22, error);
        Assert.Equal("exists", text);
    }

    [Fact]
    public void FindAck_TruncatedMessage_NotFound()
    {
        var message = new byte[20];
        BitConverter.TryWriteBytes(message.AsSpan(0), 400);
        BitConverter.TryWriteBytes(message.AsSpan(4), (ushort)2);
        Assert.False(NetlinkSocket.FindAck(message, 0, out _, out _));
    }
}
