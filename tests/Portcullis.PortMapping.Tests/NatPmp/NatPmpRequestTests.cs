using Portcullis.PortMapping.NatPmp;
using Portcullis.PortMapping.Tests.Support;

namespace Portcullis.PortMapping.Tests.NatPmp;

// Vectors laid out as RFC 6886 §3.2 and §3.3 draw them: Vers | OP | Reserved | Internal Port | Suggested External Port | Lifetime.
public sealed class NatPmpRequestTests
{
    [Fact]
    public void Parse_PublicAddressRequest_IsRequest()
    {
        var status = NatPmpRequest.Parse(Hex.Bytes("00 00"), out var request);

        Assert.Equal(NatPmpParseStatus.Request, status);
        Assert.Equal(NatPmpOpcode.PublicAddress, request.Opcode);
        Assert.False(request.IsMap);
    }

    [Fact]
    public void Parse_MapTcpRequest_ReadsEveryField()
    {
        var status = NatPmpRequest.Parse(Hex.Bytes("00 02 | 0000 | 1F90 | 9C41 | 00000E10"), out var request);

        Assert.Equal(NatPmpParseStatus.Request, status);
        Assert.Equal(NatPmpOpcode.MapTcp, request.Opcode);
        Assert.True(request.IsMap);
        Assert.Equal(MappingProtocol.Tcp, request.Protocol);
        Assert.Equal(8080, request.InternalPort);
        Assert.Equal(40001, request.SuggestedExternalPort);
        Assert.Equal(3600u, request.RequestedLifetime);
    }

    [Fact]
    public void Parse_MapUdpRequest_IsUdp()
    {
        var status = NatPmpRequest.Parse(Hex.Bytes("00 01 | 0000 | 0035 | 0000 | 00000000"), out var request);

        Assert.Equal(NatPmpParseStatus.Request, status);
        Assert.Equal(MappingProtocol.Udp, request.Protocol);
        Assert.Equal(53, request.InternalPort);
        Assert.Equal(0u, request.RequestedLifetime);
    }

    [Fact]
    public void Parse_ReservedFieldSet_IgnoredAsRfcSays()
    {
        var status = NatPmpRequest.Parse(Hex.Bytes("00 02 | BEEF | 1F90 | 0000 | 0000003C"), out var request);

        Assert.Equal(NatPmpParseStatus.Request, status);
        Assert.Equal(0xBEEF, request.Reserved);
        Assert.Equal(60u, request.RequestedLifetime);
    }

    [Theory]
    [InlineData("")]
    [InlineData("00")]
    [InlineData("00 00 00")]                               // public address request is exactly 2 bytes
    [InlineData("00 02 0000 1F90 0000 00000E")]            // 11 bytes
    [InlineData("00 02 0000 1F90 0000 00000E10 00")]       // 13 bytes
    [InlineData("00 01")]                                  // map opcode without its fields
    [InlineData("00 80 0000 00000000 C633640A")]           // a response (opcode ≥ 128): never answered
    [InlineData("00 82 0000 00000000 1F90 9C40 00000E10")]
    [InlineData("02 81")]                                  // a PCP response is a response too
    public void Parse_ShortWrongSizeOrResponse_Dropped(string hex)
    {
        Assert.Equal(NatPmpParseStatus.Dropped, NatPmpRequest.Parse(Hex.Bytes(hex), out _));
    }

    [Theory]
    [InlineData("01 00")]
    [InlineData("FF 02 0000 1F90 0000 00000E10")]
    [InlineData("02 01 0000 00000E10 00000000 00000000 0000FFFF 0A630002")] // PCP to a NAT-PMP-only path
    public void Parse_OtherVersion_UnsupportedVersion(string hex)
    {
        Assert.Equal(NatPmpParseStatus.UnsupportedVersion, NatPmpRequest.Parse(Hex.Bytes(hex), out _));
    }

    [Theory]
    [InlineData("00 03")]
    [InlineData("00 7F 1234")]
    [InlineData("00 05 0000 1F90 0000 00000E10")]
    public void Parse_UnknownOpcodeBelow128_UnsupportedOpcode(string hex)
    {
        Assert.Equal(NatPmpParseStatus.UnsupportedOpcode, NatPmpRequest.Parse(Hex.Bytes(hex), out _));
    }
}
