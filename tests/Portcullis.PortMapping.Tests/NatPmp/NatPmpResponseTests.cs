using System.Net;
using Portcullis.PortMapping.NatPmp;
using Portcullis.PortMapping.Tests.Support;

namespace Portcullis.PortMapping.Tests.NatPmp;

// Expected bytes follow RFC 6886 §3.2 (12-byte public address response) and §3.3 (16-byte map response).
public sealed class NatPmpResponseTests
{
    private const uint Epoch = 0x01020304;

    [Fact]
    public void WritePublicAddress_Success_TwelveBytesWithAddressAndEpoch()
    {
        var buffer = new byte[64];

        var length = NatPmpResponse.WritePublicAddress(buffer, NatPmpResultCode.Success, Epoch, IPAddress.Parse("198.51.100.10"));

        Assert.Equal("00800000" + "01020304" + "C633640A", Hex.Of(buffer.AsSpan(0, length)));
    }

    [Fact]
    public void WritePublicAddress_Refused_ZeroAddress()
    {
        var buffer = new byte[12];
        Array.Fill(buffer, (byte)0xEE);

        var length = NatPmpResponse.WritePublicAddress(buffer, NatPmpResultCode.NotAuthorized, Epoch, null);

        Assert.Equal("00800002" + "01020304" + "00000000", Hex.Of(buffer.AsSpan(0, length)));
    }

    [Fact]
    public void WritePublicAddress_Ipv6Address_WrittenAsZero()
    {
        var buffer = new byte[12];

        NatPmpResponse.WritePublicAddress(buffer, NatPmpResultCode.NetworkFailure, Epoch, IPAddress.IPv6Loopback);

        Assert.Equal("00800003" + "01020304" + "00000000", Hex.Of(buffer));
    }

    [Fact]
    public void WriteMap_Tcp_SixteenBytesOpcode130()
    {
        var buffer = new byte[64];

        var length = NatPmpResponse.WriteMap(buffer, NatPmpOpcode.MapTcp, NatPmpResultCode.Success, Epoch, 8080, 40000, 3600);

        Assert.Equal("00820000" + "01020304" + "1F90" + "9C40" + "00000E10", Hex.Of(buffer.AsSpan(0, length)));
    }

    [Fact]
    public void WriteMap_UdpRefused_Opcode129WithResultCode()
    {
        var buffer = new byte[16];

        var length = NatPmpResponse.WriteMap(buffer, NatPmpOpcode.MapUdp, NatPmpResultCode.OutOfResources, Epoch, 53, 0, 0);

        Assert.Equal(16, length);
        Assert.Equal("00810004" + "01020304" + "0035" + "0000" + "00000000", Hex.Of(buffer));
    }

    [Fact]
    public void WriteMap_PublicAddressOpcode_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            NatPmpResponse.WriteMap(new byte[16], NatPmpOpcode.PublicAddress, NatPmpResultCode.Success, Epoch, 1, 1, 1));
    }

    [Fact]
    public void WriteUnsupportedVersion_EightBytesOpcode128Result1()
    {
        var buffer = new byte[64];

        var length = NatPmpResponse.WriteUnsupportedVersion(buffer, Epoch);

        // RFC 6886 §3.5 as corrected by verified erratum 3618: OP = 128.
        Assert.Equal("00800001" + "01020304", Hex.Of(buffer.AsSpan(0, length)));
    }

    [Fact]
    public void WriteUnsupportedOpcode_TwoByteRequest_EchoExtendedToCarryEpoch()
    {
        var buffer = new byte[64];

        var length = NatPmpResponse.WriteUnsupportedOpcode(buffer, Hex.Bytes("00 03"), Epoch);

        Assert.Equal("00830005" + "01020304", Hex.Of(buffer.AsSpan(0, length)));
    }

    [Fact]
    public void WriteUnsupportedOpcode_LongerRequest_WholeRequestEchoedWithTopBitAndResult5()
    {
        var buffer = new byte[64];

        var length = NatPmpResponse.WriteUnsupportedOpcode(buffer, Hex.Bytes("00 05 AABB CCDDEEFF 11223344 5566"), Epoch);

        Assert.Equal("00850005" + "01020304" + "11223344" + "5566", Hex.Of(buffer.AsSpan(0, length)));
    }

    [Fact]
    public void WriteUnsupportedOpcode_HugeRequest_EchoCappedAt1100()
    {
        var request = new byte[3000];
        request[1] = 9;
        var buffer = new byte[3000];

        var length = NatPmpResponse.WriteUnsupportedOpcode(buffer, request, Epoch);

        Assert.Equal(NatPmpMessages.MaxEchoSize, length);
        Assert.Equal(0x89, buffer[1]);
    }
}
