using System.Net;
using Portcullis.PortMapping.Pcp;
using Portcullis.PortMapping.Tests.Support;
using static Portcullis.PortMapping.Tests.Support.PcpVectors;

namespace Portcullis.PortMapping.Tests.Pcp;

public sealed class PcpRequestParserTests
{
    private static readonly IPAddress Source = IPAddress.Parse("10.99.0.2");

    [Fact]
    public void Parse_MapRequestFromRfcLayout_ReadsEveryField()
    {
        var result = PcpRequestParser.Parse(Map(suggestedPort: "9C41"), Source);

        Assert.Equal(PcpParseStatus.Valid, result.Status);
        var request = result.Request!;
        Assert.Equal(PcpOpcode.Map, request.Opcode);
        Assert.Equal(3600u, request.RequestedLifetime);
        Assert.Equal(Source, request.ClientAddress);
        Assert.False(request.PreferFailure);
        Assert.Empty(request.Filters);
        var map = request.Map!;
        Assert.Equal(Hex.Bytes(Nonce), map.Nonce.ToArray());
        Assert.Equal(6, map.Protocol);
        Assert.Equal(8080, map.InternalPort);
        Assert.Equal(40001, map.SuggestedExternalPort);
        Assert.Null(map.SuggestedExternalAddress);
    }

    [Fact]
    public void Parse_SuggestedIpv4MappedAddress_ReadAsIpv4()
    {
        var result = PcpRequestParser.Parse(Map(suggestedAddress: "00000000 00000000 0000FFFF C633640B"), Source);

        Assert.Equal(IPAddress.Parse("198.51.100.11"), result.Request!.Map!.SuggestedExternalAddress);
    }

    [Fact]
    public void Parse_SuggestedMappedZeroAddress_NoSuggestion()
    {
        var result = PcpRequestParser.Parse(Map(suggestedAddress: "00000000 00000000 0000FFFF 00000000"), Source);

        Assert.Null(result.Request!.Map!.SuggestedExternalAddress);
    }

    [Fact]
    public void Parse_Announce_Valid()
    {
        var result = PcpRequestParser.Parse(Announce(), Source);

        Assert.Equal(PcpParseStatus.Valid, result.Status);
        Assert.Equal(PcpOpcode.Announce, result.Request!.Opcode);
        Assert.Null(result.Request.Map);
    }

    [Fact]
    public void Parse_IgnoresReservedBits()
    {
        var bytes = Map();
        bytes[2] = 0xFF; bytes[3] = 0xFF;              // header reserved
        bytes[24 + 13] = 0xAA; bytes[24 + 15] = 0x55;  // MAP reserved

        Assert.Equal(PcpParseStatus.Valid, PcpRequestParser.Parse(bytes, Source).Status);
    }

    [Theory]
    [InlineData("")]
    [InlineData("02")]
    [InlineData("02 01 0000 00000E10")]                                           // version 2, shorter than the header
    [InlineData("02 81 0000 00000E10 00000000 00000000 0000FFFF 0A630002")]       // R bit: a response
    [InlineData("01 80")]                                                         // a response of another version
    public void Parse_TooShortOrResponse_Dropped(string hex)
    {
        Assert.Equal(PcpParseStatus.Dropped, PcpRequestParser.Parse(Hex.Bytes(hex), Source).Status);
    }

    [Theory]
    [InlineData("01 01")]
    [InlineData("03 01 0000 00000E10 00000000 00000000 0000FFFF 0A630002")]
    [InlineData("FF 00")]
    public void Parse_OtherVersion_UnsupportedVersion(string hex)
    {
        AssertError(PcpResultCode.UnsupportedVersion, Hex.Bytes(hex));
    }

    [Fact]
    public void Parse_LongerThan1100_MalformedRequest()
    {
        var bytes = new byte[1104];
        Map().CopyTo(bytes, 0);

        AssertError(PcpResultCode.MalformedRequest, bytes);
    }

    [Fact]
    public void Parse_NotMultipleOfFour_MalformedRequest()
    {
        AssertError(PcpResultCode.MalformedRequest, [.. Map(), 0]);
    }

    [Fact]
    public void Parse_Exactly1100WithOptionalPadding_Valid()
    {
        // 60 bytes of MAP, then one optional option (code 200) filling the rest: 1100 is allowed.
        var padding = 1100 - 60 - 4;
        var bytes = Map(options: Option("C8", padding.ToString("X4"), new string('0', padding * 2)));

        Assert.Equal(1100, bytes.Length);
        Assert.Equal(PcpParseStatus.Valid, PcpRequestParser.Parse(bytes, Source).Status);
    }

    [Fact]
    public void Parse_ClientFieldNotSource_AddressMismatch()
    {
        AssertError(PcpResultCode.AddressMismatch, Map(client: Other));
    }

    [Fact]
    public void Parse_ClientFieldNativeIpv6_AddressMismatch()
    {
        AssertError(PcpResultCode.AddressMismatch, Map(client: "20010DB8 00000000 00000000 00000002"));
    }

    [Fact]
    public void Parse_AddressMismatchAndBadOption_AddressMismatchFirst()
    {
        AssertError(PcpResultCode.AddressMismatch, Map(client: Other, options: Option("40", "0000")));
    }

    [Fact]
    public void Parse_Peer_ReadsMapFieldsAndRemotePeer()
    {
        var peer = Peer(options: ThirdParty(Client).Replace("0A630002", "0A630003", StringComparison.Ordinal));

        Assert.Equal(PcpResultCode.NotAuthorized, PcpRequestParser.Parse(peer, Source).Error); // THIRD_PARTY is valid for PEER, and ours
        var result = PcpRequestParser.Parse(Peer(), Source);
        Assert.Equal(PcpParseStatus.Valid, result.Status);
        var request = result.Request!;
        Assert.Equal(PcpOpcode.Peer, request.Opcode);
        Assert.Null(request.Map);
        Assert.Equal(Hex.Bytes(Nonce), request.Peer!.Mapping.Nonce.ToArray());
        Assert.Equal((byte)6, request.Peer.Mapping.Protocol);
        Assert.Equal(8080, request.Peer.Mapping.InternalPort);
        Assert.Equal(80, request.Peer.RemotePeerPort);
        Assert.Equal(IPAddress.Parse("192.0.2.100"), request.Peer.RemotePeerAddress);
        Assert.Equal(80, Peer().Length);
    }

    [Theory]
    [InlineData("0000", "00000000 00000000 0000FFFF C0000264", "06", "1F90")] // remote peer port 0
    [InlineData("0050", "00000000 00000000 0000FFFF 00000000", "06", "1F90")] // no remote peer address
    [InlineData("0050", "00000000 00000000 0000FFFF C0000264", "00", "1F90")] // protocol 0
    [InlineData("0050", "00000000 00000000 0000FFFF C0000264", "06", "0000")] // internal port 0
    public void Parse_PeerWithoutAFlow_MalformedRequest(string remotePort, string remoteAddress, string protocol, string internalPort)
    {
        AssertError(PcpResultCode.MalformedRequest, Peer(remotePort, remoteAddress, protocol, internalPort));
    }

    [Fact]
    public void Parse_PeerShort_MalformedRequest_AndFilterOnPeer_MalformedOption()
    {
        AssertError(PcpResultCode.MalformedRequest, Peer()[..76]);
        AssertError(PcpResultCode.MalformedOption, Peer(options: Filter("80", "0000", "00000000 00000000 0000FFFF C0000264")));
        AssertError(PcpResultCode.MalformedOption, Peer(options: PreferFailure));
    }

    [Theory]
    [InlineData("03")]
    [InlineData("7F")]
    public void Parse_UnknownOpcode_UnsupportedOpcode(string opcode)
    {
        AssertError(PcpResultCode.UnsupportedOpcode, Hex.Bytes(Header(opcode)));
    }

    [Fact]
    public void Parse_MapWithoutFullOpcodeData_MalformedRequest()
    {
        AssertError(PcpResultCode.MalformedRequest, Hex.Bytes(Header("01") + Nonce + "06000000 1F900000 00000000"));
    }

    [Fact]
    public void Parse_ThirdPartyForAnotherAddress_NotAuthorized()
    {
        AssertError(PcpResultCode.NotAuthorized, Map(options: ThirdParty(Other)));
    }

    [Fact]
    public void Parse_ThirdPartyNamingTheSourceItself_MalformedRequest()
    {
        // RFC 6887 §13.1: a THIRD_PARTY option with the packet's own source address is a malformed request.
        AssertError(PcpResultCode.MalformedRequest, Map(options: ThirdParty(Client)));
    }

    [Fact]
    public void Parse_ThirdPartyWrongLength_MalformedOption()
    {
        AssertError(PcpResultCode.MalformedOption, Map(options: Option("01", "000C", "00000000 0000FFFF 0A630003")));
    }

    [Fact]
    public void Parse_ThirdPartyTwice_MalformedOption()
    {
        AssertError(PcpResultCode.MalformedOption, Map(options: ThirdParty(Other) + ThirdParty(Other)));
    }

    [Fact]
    public void Parse_ThirdPartyOnAnnounce_MalformedOption()
    {
        AssertError(PcpResultCode.MalformedOption, Announce(options: ThirdParty(Other)));
    }

    [Fact]
    public void Parse_PreferFailureWithSuggestion_Flagged()
    {
        var result = PcpRequestParser.Parse(Map(suggestedPort: "9C40", options: PreferFailure), Source);

        Assert.Equal(PcpParseStatus.Valid, result.Status);
        Assert.True(result.Request!.PreferFailure);
    }

    [Fact]
    public void Parse_PreferFailureWithoutSuggestedPort_MalformedOption()
    {
        AssertError(PcpResultCode.MalformedOption, Map(options: PreferFailure));
    }

    [Fact]
    public void Parse_PreferFailureTwice_MalformedOption()
    {
        AssertError(PcpResultCode.MalformedOption, Map(suggestedPort: "9C40", options: PreferFailure + PreferFailure));
    }

    [Fact]
    public void Parse_PreferFailureWithData_MalformedOption()
    {
        AssertError(PcpResultCode.MalformedOption, Map(suggestedPort: "9C40", options: Option("02", "0004", "00000000")));
    }

    [Fact]
    public void Parse_PreferFailureOnAnnounce_MalformedOption()
    {
        AssertError(PcpResultCode.MalformedOption, Announce(options: PreferFailure));
    }

    [Fact]
    public void Parse_Filters_ReadInOrder()
    {
        var options = Filter("78", "0050", "00000000 00000000 0000FFFF C0000200") + Filter("80", "0000", "00000000 00000000 0000FFFF C0000264");

        var result = PcpRequestParser.Parse(Map(options: options), Source);

        Assert.Equal(PcpParseStatus.Valid, result.Status);
        Assert.Equal(
            [new PcpFilter(120, 80, IPAddress.Parse("192.0.2.0")), new PcpFilter(128, 0, IPAddress.Parse("192.0.2.100"))],
            result.Request!.Filters);
    }

    [Theory]
    [InlineData("18")] // 24: an IPv4 prefix not counted from the 96 mapping bits
    [InlineData("81")] // 129: longer than an address
    public void Parse_FilterPrefixImpossible_MalformedOption(string prefixLength)
    {
        AssertError(PcpResultCode.MalformedOption, Map(options: Filter(prefixLength, "0000", "00000000 00000000 0000FFFF C0000200")));
    }

    [Fact]
    public void Parse_FilterOnAnnounce_MalformedOption()
    {
        AssertError(PcpResultCode.MalformedOption, Announce(options: Filter("80", "0000", "00000000 00000000 0000FFFF C0000264")));
    }

    [Theory]
    [InlineData("04")]
    [InlineData("40")]
    [InlineData("7F")]
    public void Parse_UnknownMandatoryOption_UnsupportedOption(string code)
    {
        AssertError(PcpResultCode.UnsupportedOption, Map(options: Option(code, "0000")));
    }

    [Fact]
    public void Parse_UnknownMandatoryOptionBeforeBadOne_UnsupportedOptionStopsProcessing()
    {
        AssertError(PcpResultCode.UnsupportedOption, Map(options: Option("40", "0000") + Option("01", "0000")));
    }

    [Theory]
    [InlineData("80")]
    [InlineData("FF")]
    public void Parse_UnknownOptionalOption_Ignored(string code)
    {
        var result = PcpRequestParser.Parse(Map(options: Option(code, "0003", "AABBCC00")), Source);

        Assert.Equal(PcpParseStatus.Valid, result.Status);
    }

    [Fact]
    public void Parse_OptionLengthPastTheEnd_MalformedOption()
    {
        AssertError(PcpResultCode.MalformedOption, Map(options: Option("80", "0008", "00000000")));
    }

    [Fact]
    public void Parse_OptionPaddingPastTheEnd_MalformedOption()
    {
        // Length 5 needs 8 bytes of data once padded; only 4 are there.
        AssertError(PcpResultCode.MalformedOption, Map(options: Option("80", "0005", "00000000")));
    }

    private static void AssertError(PcpResultCode expected, byte[] datagram)
    {
        var result = PcpRequestParser.Parse(datagram, Source);
        Assert.Equal(PcpParseStatus.Error, result.Status);
        Assert.Equal(expected, result.Error);
        Assert.Null(result.Request);
    }
}
