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

    [Fact]
    public void FindAck_TruncatedMessage_NotFound()
    {
        var message = new byte[20];
        BitConverter.TryWriteBytes(message.AsSpan(0), 400);
        BitConverter.TryWriteBytes(message.AsSpan(4), (ushort)2);
        Assert.False(NetlinkSocket.FindAck(message, 0, out _, out _));
    }
}
