using System.Net;
using Portcullis.PortMapping.ClientSide;
using Portcullis.PortMapping.NatPmp;
using Portcullis.PortMapping.Pcp;

namespace Portcullis.PortMapping.Tests.ClientSide;

// The client's writers are read back by the server's parser and the server's writers by the client's readers.
public sealed class PcpClientCodecTests
{
    private static readonly IPAddress Client = IPAddress.Parse("10.99.0.2");
    private static readonly byte[] Nonce = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];

    [Fact]
    public void WriteMapRequest_ServerParser_ReadsEveryField()
    {
        var buffer = new byte[100];
        var length = PcpClientCodec.WriteMapRequest(buffer, Nonce, MappingProtocol.Tcp, 8080, 31337, 3600, Client);

        var parsed = PcpRequestParser.Parse(buffer.AsSpan(0, length), Client);

        Assert.Equal(60, length);
        Assert.Equal(PcpParseStatus.Valid, parsed.Status);
        var request = parsed.Request!;
        Assert.Equal(PcpOpcode.Map, request.Opcode);
        Assert.Equal(3600u, request.RequestedLifetime);
        Assert.Equal(Client, request.ClientAddress);
        Assert.Equal(Nonce, request.Map!.Nonce.ToArray());
        Assert.Equal((byte)MappingProtocol.Tcp, request.Map.Protocol);
        Assert.Equal(8080, request.Map.InternalPort);
        Assert.Equal(31337, request.Map.SuggestedExternalPort);
        Assert.Null(request.Map.SuggestedExternalAddress);
        Assert.False(request.PreferFailure);
    }

    [Fact]
    public void WriteMapRequest_WithFilters_FilterOptionsAfterTheMapData_ServerReadsThemBack()
    {
        var buffer = new byte[200];
        RemoteFilter[] filters = [new(IPNetwork.Parse("198.51.100.0/24"), 0), new(IPNetwork.Parse("192.0.2.7/32"), 443)];

        var length = PcpClientCodec.WriteMapRequest(buffer, Nonce, MappingProtocol.Tcp, 8080, 0, 3600, Client, filters);

        Assert.Equal(60 + (2 * 24), length);
        Assert.Equal("03000014" + "00780000" + "00000000000000000000FFFFC6336400", Convert.ToHexString(buffer, 60, 24));
        Assert.Equal("03000014" + "008001BB" + "00000000000000000000FFFFC0000207", Convert.ToHexString(buffer, 84, 24));
        var parsed = PcpRequestParser.Parse(buffer.AsSpan(0, length), Client);
        Assert.Equal(PcpParseStatus.Valid, parsed.Status);
        Assert.Equal(filters, PcpFilterOption.ToRemote(parsed.Request!.Filters));
    }

    [Fact]
    public void WriteMapRequest_FromAnotherSource_ServerSaysAddressMismatch()
    {
        var buffer = new byte[60];
        PcpClientCodec.WriteMapRequest(buffer, Nonce, MappingProtocol.Udp, 8080, 0, 60, Client);

        var parsed = PcpRequestParser.Parse(buffer, IPAddress.Parse("10.99.0.3"));

        Assert.Equal(PcpResultCode.AddressMismatch, parsed.Error);
    }

    [Fact]
    public void TryReadMapResponse_ServerGrant_ReadsPortAddressLifetimeEpoch()
    {
        var response = new byte[60];
        var map = new PcpMapData(Nonce, (byte)MappingProtocol.Tcp, 8080, 0, null);
        PcpResponse.WriteMap(response, map, 1800, 4242, 40001, IPAddress.Parse("198.51.100.10"));

        Assert.True(PcpClientCodec.TryReadMapResponse(response, Nonce, MappingProtocol.Tcp, 8080, out var answer));
        Assert.Equal(MappingOutcome.Granted, answer.Outcome);
        Assert.Equal(MappingWire.Pcp, answer.Wire);
        Assert.Equal(40001, answer.ExternalPort);
        Assert.Equal(8080, answer.InternalPort);
        Assert.Equal(IPAddress.Parse("198.51.100.10"), answer.ExternalAddress);
        Assert.Equal(1800u, answer.LifetimeSeconds);
        Assert.Equal(4242u, answer.Epoch);
    }

    [Fact]
    public void TryReadMapResponse_ServerErrorBuiltFromOurRequest_Refused()
    {
        var request = new byte[60];
        PcpClientCodec.WriteMapRequest(request, Nonce, MappingProtocol.Tcp, 8080, 0, 3600, Client);
        var response = new byte[1100];
        var length = PcpResponse.WriteError(response, request, PcpResultCode.NotAuthorized, 7);

        Assert.True(PcpClientCodec.TryReadMapResponse(response.AsSpan(0, length), Nonce, MappingProtocol.Tcp, 8080, out var answer));
        Assert.Equal(MappingOutcome.Refused, answer.Outcome);
        Assert.Equal((int)PcpResultCode.NotAuthorized, answer.ResultCode);
        Assert.Equal(7u, answer.Epoch);
    }

    [Theory]
    [InlineData("nonce")]
    [InlineData("protocol")]
    [InlineData("internal port")]
    [InlineData("short")]
    [InlineData("not a multiple of 4")]
    [InlineData("request, not response")]
    [InlineData("version")]
    public void TryReadMapResponse_NotOurAnswer_Ignored(string change)
    {
        var response = new byte[64];
        var map = new PcpMapData(Nonce, (byte)MappingProtocol.Tcp, 8080, 0, null);
        PcpResponse.WriteMap(response, map, 1800, 1, 40001, null);
        var length = 60;
        switch (change)
        {
            case "nonce": response[24] ^= 0xff; break;
            case "protocol": response[36] = (byte)MappingProtocol.Udp; break;
            case "internal port": response[41] ^= 1; break;
            case "short": length = 56; break;
            case "not a multiple of 4": length = 62; break;
            case "request, not response": response[1] = (byte)PcpOpcode.Map; break;
            case "version": response[0] = 1; break;
        }

        Assert.False(PcpClientCodec.TryReadMapResponse(response.AsSpan(0, length), Nonce, MappingProtocol.Tcp, 8080, out _));
    }

    [Fact]
    public void IsVersionRefusal_NatPmpUnsupportedVersion_True()
    {
        var response = new byte[8];
        NatPmpResponse.WriteUnsupportedVersion(response, 99);

        Assert.True(PcpClientCodec.IsVersionRefusal(response));
    }

    [Fact]
    public void IsVersionRefusal_PcpGrant_False()
    {
        var response = new byte[60];
        PcpResponse.WriteMap(response, new PcpMapData(Nonce, 6, 8080, 0, null), 60, 1, 40000, null);

        Assert.False(PcpClientCodec.IsVersionRefusal(response));
    }

    [Fact]
    public void WriteAnnounceRequest_ServerParser_ValidAnnounce()
    {
        var buffer = new byte[24];
        PcpClientCodec.WriteAnnounceRequest(buffer, Client);

        var parsed = PcpRequestParser.Parse(buffer, Client);

        Assert.Equal(PcpParseStatus.Valid, parsed.Status);
        Assert.Equal(PcpOpcode.Announce, parsed.Request!.Opcode);
    }

    [Fact]
    public void TryReadAnnounce_ServerAnnouncement_ReadsEpoch()
    {
        var response = new byte[24];
        PcpResponse.WriteAnnounce(response, 3);

        Assert.True(PcpClientCodec.TryReadAnnounce(response, out var epoch));
        Assert.Equal(3u, epoch);
        Assert.False(PcpClientCodec.TryReadAnnounce(response.AsSpan(0, 20), out _));
    }
}
