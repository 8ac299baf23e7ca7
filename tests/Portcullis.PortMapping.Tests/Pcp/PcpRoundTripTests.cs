using System.Buffers.Binary;
using System.Net;
using Portcullis.PortMapping.NatPmp;
using Portcullis.PortMapping.Pcp;

namespace Portcullis.PortMapping.Tests.Pcp;

// Random field values written by hand into the RFC layouts must read back unchanged, and a response written from a
// parsed request must carry the request's fields where the RFC puts them.
public sealed class PcpRoundTripTests
{
    [Fact]
    public void MapRequest_RandomFields_ReadBackAndEchoedInResponse()
    {
        var random = new Random(2013);
        var source = IPAddress.Parse("10.99.7.9");
        var request = new byte[60];
        var response = new byte[60];
        for (var i = 0; i < 2000; i++)
        {
            random.NextBytes(request);
            request[0] = 2;
            request[1] = 1;
            var protocol = random.Next(2) == 0 ? (byte)6 : (byte)17;
            request[36] = protocol;
            PcpAddress.Write(request.AsSpan(8), source);
            var lifetime = BinaryPrimitives.ReadUInt32BigEndian(request.AsSpan(4));
            var internalPort = BinaryPrimitives.ReadUInt16BigEndian(request.AsSpan(40));
            var suggestedPort = BinaryPrimitives.ReadUInt16BigEndian(request.AsSpan(42));

            var parsed = PcpRequestParser.Parse(request, source);

            Assert.Equal(PcpParseStatus.Valid, parsed.Status);
            var map = parsed.Request!.Map!;
            Assert.Equal(lifetime, parsed.Request.RequestedLifetime);
            Assert.Equal(protocol, map.Protocol);
            Assert.Equal(internalPort, map.InternalPort);
            Assert.Equal(suggestedPort, map.SuggestedExternalPort);
            Assert.Equal(request.AsSpan(24, 12).ToArray(), map.Nonce.ToArray());

            var assigned = (ushort)random.Next(1, 65536);
            PcpResponse.WriteMap(response, map, 600, 77, assigned, IPAddress.Parse("198.51.100.12"));
            Assert.Equal(request.AsSpan(24, 12).ToArray(), response.AsSpan(24, 12).ToArray());
            Assert.Equal(protocol, response[36]);
            Assert.Equal(internalPort, BinaryPrimitives.ReadUInt16BigEndian(response.AsSpan(40)));
            Assert.Equal(assigned, BinaryPrimitives.ReadUInt16BigEndian(response.AsSpan(42)));
            Assert.Equal(IPAddress.Parse("198.51.100.12"), PcpAddress.Read(response.AsSpan(44)));
        }
    }

    [Fact]
    public void NatPmpMapRequest_RandomFields_ReadBack()
    {
        var random = new Random(6886);
        var request = new byte[12];
        for (var i = 0; i < 2000; i++)
        {
            random.NextBytes(request);
            request[0] = 0;
            request[1] = (byte)random.Next(1, 3);

            Assert.Equal(NatPmpParseStatus.Request, NatPmpRequest.Parse(request, out var parsed));
            Assert.Equal((NatPmpOpcode)request[1], parsed.Opcode);
            Assert.Equal(BinaryPrimitives.ReadUInt16BigEndian(request.AsSpan(4)), parsed.InternalPort);
            Assert.Equal(BinaryPrimitives.ReadUInt16BigEndian(request.AsSpan(6)), parsed.SuggestedExternalPort);
            Assert.Equal(BinaryPrimitives.ReadUInt32BigEndian(request.AsSpan(8)), parsed.RequestedLifetime);
        }
    }

    [Theory]
    [InlineData("10.99.0.2", "00000000000000000000FFFF0A630002")]
    [InlineData("2001:db8::7", "20010DB8000000000000000000000007")]
    public void PcpAddress_WriteRead_MappedForIpv4(string address, string hex)
    {
        var field = new byte[16];

        PcpAddress.Write(field, IPAddress.Parse(address));

        Assert.Equal(hex, Convert.ToHexString(field));
        Assert.Equal(IPAddress.Parse(address), PcpAddress.Read(field));
        Assert.True(PcpAddress.Holds(field, IPAddress.Parse(address)));
        Assert.False(PcpAddress.IsUnspecified(field));
    }
}
