using System.Net;
using Portcullis.PortMapping.ClientSide;
using Portcullis.PortMapping.NatPmp;

namespace Portcullis.PortMapping.Tests.ClientSide;

public sealed class NatPmpClientCodecTests
{
    [Fact]
    public void WriteMapRequest_RfcLayout_ServerParserReadsIt()
    {
        var buffer = new byte[12];
        NatPmpClientCodec.WriteMapRequest(buffer, MappingProtocol.Tcp, 8080, 0, 3600);

        Assert.Equal("00020000" + "1F90" + "0000" + "00000E10", Convert.ToHexString(buffer));
        Assert.Equal(NatPmpParseStatus.Request, NatPmpRequest.Parse(buffer, out var request));
        Assert.Equal(NatPmpOpcode.MapTcp, request.Opcode);
        Assert.Equal(8080, request.InternalPort);
        Assert.Equal(3600u, request.RequestedLifetime);
    }

    [Fact]
    public void TryReadMapResponse_ServerGrant_ReadsPortLifetimeEpoch()
    {
        var response = new byte[16];
        NatPmpResponse.WriteMap(response, NatPmpOpcode.MapUdp, NatPmpResultCode.Success, 77, 0, 40002, 60);

        Assert.True(NatPmpClientCodec.TryReadMapResponse(response, MappingProtocol.Udp, 0, out var answer));
        Assert.Equal(MappingOutcome.Granted, answer.Outcome);
        Assert.Equal(MappingWire.NatPmp, answer.Wire);
        Assert.Equal(40002, answer.ExternalPort);
        Assert.Equal(60u, answer.LifetimeSeconds);
        Assert.Equal(77u, answer.Epoch);
    }

    [Fact]
    public void TryReadMapResponse_Refusal_CarriesResultCode()
    {
        var response = new byte[16];
        NatPmpResponse.WriteMap(response, NatPmpOpcode.MapTcp, NatPmpResultCode.OutOfResources, 5, 8080, 0, 0);

        Assert.True(NatPmpClientCodec.TryReadMapResponse(response, MappingProtocol.Tcp, 8080, out var answer));
        Assert.Equal(MappingOutcome.Refused, answer.Outcome);
        Assert.Equal((int)NatPmpResultCode.OutOfResources, answer.ResultCode);
    }

    [Fact]
    public void TryReadMapResponse_OtherProtocolPortOrSize_Ignored()
    {
        var response = new byte[20];
        NatPmpResponse.WriteMap(response, NatPmpOpcode.MapTcp, NatPmpResultCode.Success, 5, 8080, 40000, 60);

        Assert.False(NatPmpClientCodec.TryReadMapResponse(response.AsSpan(0, 16), MappingProtocol.Udp, 8080, out _));
        Assert.False(NatPmpClientCodec.TryReadMapResponse(response.AsSpan(0, 16), MappingProtocol.Tcp, 8081, out _));
        Assert.False(NatPmpClientCodec.TryReadMapResponse(response.AsSpan(0, 12), MappingProtocol.Tcp, 8080, out _));
        Assert.False(NatPmpClientCodec.TryReadMapResponse(response.AsSpan(0, 20), MappingProtocol.Tcp, 8080, out _));
        Assert.True(NatPmpClientCodec.TryReadMapResponse(response.AsSpan(0, 16), MappingProtocol.Tcp, 8080, out _));
    }

    [Fact]
    public void TryReadPublicAddress_ServerAnnouncement_ReadsEpochAndAddress()
    {
        var response = new byte[12];
        NatPmpResponse.WritePublicAddress(response, NatPmpResultCode.Success, 2, IPAddress.Parse("198.51.100.10"));

        Assert.True(NatPmpClientCodec.TryReadPublicAddress(response, out var epoch, out var address));
        Assert.Equal(2u, epoch);
        Assert.Equal(IPAddress.Parse("198.51.100.10"), address);
    }
}
