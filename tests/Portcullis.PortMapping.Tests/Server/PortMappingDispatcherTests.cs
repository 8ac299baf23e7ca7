using System.Buffers.Binary;
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Portcullis.PortMapping.Server;
using Portcullis.PortMapping.Tests.Support;
using Portcullis.Testing;
using static Portcullis.PortMapping.Tests.Support.PcpVectors;

namespace Portcullis.PortMapping.Tests.Server;

// The whole server minus its socket: bytes in, bytes out, and what the policy layer was asked.
public sealed class PortMappingDispatcherTests
{
    private const string EpochHex = "000004D2"; // AuthorityDouble.EpochSeconds = 1234
    private static readonly IPAddress Client = IPAddress.Parse("10.99.0.2");

    private readonly AuthorityDouble _authority = new();
    private readonly PortMappingCounters _counters = new();
    private readonly CapturingLogger _log = new();
    private readonly byte[] _response = new byte[PortMappingDispatcher.MaxResponseSize];

    private PortMappingDispatcher Dispatcher(bool enablePcp = true, bool audit = false) =>
        new(_authority, new PortMappingServerOptions { ListenAddress = IPAddress.Parse("10.99.0.1"), EnablePcp = enablePcp, AuditLog = audit }, _counters, _log);

    private string Handle(string hex, IPAddress? source = null, bool enablePcp = true, bool audit = false) =>
        Handle(Hex.Bytes(hex), source, enablePcp, audit);

    private string Handle(byte[] datagram, IPAddress? source = null, bool enablePcp = true, bool audit = false)
    {
        var length = Dispatcher(enablePcp, audit).Handle(datagram, source ?? Client, _response);
        return Hex.Of(_response.AsSpan(0, length));
    }

    [Fact]
    public void NatPmp_PublicAddress_AnswersSharedAddressAndEpoch()
    {
        Assert.Equal("00800000" + EpochHex + "C633640A", Handle("0000"));
        Assert.Equal(1, _counters.Granted);
    }

    [Fact]
    public void NatPmp_PublicAddressWhenDisabled_NotAuthorized()
    {
        _authority.Enabled = false;

        Assert.Equal("00800002" + EpochHex + "00000000", Handle("0000"));
        Assert.Equal(1, _counters.Refused);
    }

    [Fact]
    public void NatPmp_MapTcp_AsksPolicyAndAnswersMapping()
    {
        var response = Handle("00 02 0000 1F90 9C41 00000E10");

        Assert.Equal("00820000" + EpochHex + "1F90" + "9C40" + "00000E10", response);
        var call = Assert.Single(_authority.MapCalls);
        Assert.Equal(Client, call.Client);
        Assert.Equal(MappingProtocol.Tcp, call.Protocol);
        Assert.Equal(8080, call.InternalPort);
        Assert.Equal(40001, call.SuggestedExternalPort);
        Assert.Equal(TimeSpan.FromHours(1), call.Lifetime);
        Assert.Null(call.Nonce);
    }

    [Fact]
    public void NatPmp_FromIpv6Source_DroppedAndCountedPolicyNotAsked()
    {
        // NAT-PMP has no IPv6 (RFC 6886): a mapping for an IPv6 client could not be answered truthfully.
        Assert.Equal(string.Empty, Handle("00 02 0000 1F90 9C41 00000E10", IPAddress.Parse("fd99::2")));
        Assert.Equal(string.Empty, Handle("0000", IPAddress.Parse("fd99::2")));

        Assert.Empty(_authority.MapCalls);
        Assert.Equal(2, _counters.Dropped);
    }

    [Fact]
    public void NatPmp_RepeatedRequest_SameMappingRefreshed()
    {
        var first = Handle("00 01 0000 1F90 0000 00000E10");
        var second = Handle("00 01 0000 1F90 0000 00000E10");

        Assert.Equal(first, second);
        Assert.Equal("00810000" + EpochHex + "1F90" + "9C40" + "00000E10", second);
        Assert.Equal(1, _authority.Count);
    }

    [Fact]
    public void NatPmp_LifetimeAbovePolicy_AnswersClampedLifetime()
    {
        Assert.EndsWith("00001C20", Handle("00 02 0000 1F90 0000 00100000"), StringComparison.Ordinal);
    }

    [Fact]
    public void NatPmp_InternalPortZeroWithLifetime_PassedToPolicy()
    {
        // natpmpc -a 0 0 tcp 60: whether "a port, to the same port on me" is allowed is the policy layer's call.
        var response = Handle("00 02 0000 0000 0000 0000003C");

        Assert.Equal("00820000" + EpochHex + "0000" + "9C40" + "0000003C", response);
        Assert.Equal(0, Assert.Single(_authority.MapCalls).InternalPort);
    }

    [Fact]
    public void NatPmp_Delete_SuggestedPortIgnoredAnswersZeroPortAndLifetime()
    {
        Handle("00 02 0000 1F90 0000 00000E10");

        var response = Handle("00 02 0000 1F90 9C40 00000000");

        Assert.Equal("00820000" + EpochHex + "1F90" + "0000" + "00000000", response);
        var delete = _authority.MapCalls[^1];
        Assert.Equal(TimeSpan.Zero, delete.Lifetime);
        Assert.Equal(0, delete.SuggestedExternalPort);
        Assert.Equal(0, _authority.Count);
    }

    [Fact]
    public void NatPmp_InternalPortZeroLifetimeZero_DeletesAllOfThatProtocol()
    {
        Handle("00 01 0000 1F90 0000 00000E10");
        Handle("00 01 0000 1F91 0000 00000E10");
        Handle("00 02 0000 1F90 0000 00000E10");

        var response = Handle("00 01 0000 0000 0000 00000000");

        Assert.Equal("00810000" + EpochHex + "0000" + "0000" + "00000000", response);
        Assert.Equal((Client, MappingProtocol.Udp), Assert.Single(_authority.DeleteAllCalls));
        Assert.Equal(1, _authority.Count);
    }

    [Theory]
    [InlineData(MapStatus.NotAuthorized, "0002")]
    [InlineData(MapStatus.UnknownClient, "0002")]
    [InlineData(MapStatus.QuotaExceeded, "0004")]
    [InlineData(MapStatus.NoResources, "0004")]
    [InlineData(MapStatus.CannotProvideExternal, "0004")]
    [InlineData(MapStatus.NetworkFailure, "0003")]
    public void NatPmp_PolicyRefuses_ResultCodeAndNoMapping(MapStatus status, string code)
    {
        _authority.ForcedStatus = status;

        Assert.Equal("0082" + code + EpochHex + "1F90" + "0000" + "00000000", Handle("00 02 0000 1F90 0000 00000E10"));
    }

    [Fact]
    public void NatPmp_QuotaReached_OutOfResources()
    {
        _authority.Quota = 1;
        Handle("00 02 0000 1F90 0000 00000E10");

        Assert.StartsWith("00820004", Handle("00 02 0000 1F91 0000 00000E10"), StringComparison.Ordinal);
    }

    [Fact]
    public void NatPmp_PolicyThrows_NetworkFailureCountedAndNothingLeaked()
    {
        _authority.Throws = true;

        Assert.StartsWith("00820003", Handle("00 02 0000 1F90 0000 00000E10"), StringComparison.Ordinal);
        Assert.Equal(1, _counters.AuthorityFailures);
        Assert.DoesNotContain(_log.Text, l => l.Contains("secret", StringComparison.Ordinal));
    }

    [Fact]
    public void Pcp_Map_60ByteResponseWithNonceAssignedPortAndAddress()
    {
        var response = Handle(Map(lifetime: "00000E10", suggestedPort: "9C41"));

        Assert.Equal(
            Hex.Of(Hex.Bytes("02 81 00 00 | 00000E10 | " + EpochHex + " | 000000000000000000000000"
                + Nonce + " 06 000000 | 1F90 | 9C40 | 00000000 00000000 0000FFFF C633640A")),
            response);
        var call = Assert.Single(_authority.MapCalls);
        Assert.Equal(Hex.Bytes(Nonce), call.Nonce!.Value.ToArray());
        Assert.Equal(40001, call.SuggestedExternalPort);
        Assert.False(call.PreferFailure);
    }

    [Fact]
    public void Pcp_SameMappingOtherNonce_NotAuthorizedWithRequestCopied()
    {
        Handle(Map());
        var otherNonce = Map(nonce: "FFFFFFFFFFFFFFFFFFFFFFFF");

        var response = Handle(otherNonce);

        Assert.Equal("02810002" + "00000708" + EpochHex, response[..24]);
        Assert.Equal(Hex.Of(otherNonce.AsSpan(24)), response[48..]);
        Assert.Equal(120, response.Length);
    }

    [Theory]
    [InlineData(MapStatus.NotAuthorized, 2, 1800u)]
    [InlineData(MapStatus.UnknownClient, 2, 1800u)]
    [InlineData(MapStatus.QuotaExceeded, 10, 30u)]
    [InlineData(MapStatus.NoResources, 8, 30u)]
    [InlineData(MapStatus.CannotProvideExternal, 11, 30u)]
    [InlineData(MapStatus.NetworkFailure, 7, 30u)]
    public void Pcp_PolicyRefuses_PcpCodeAndErrorLifetime(MapStatus status, byte code, uint lifetime)
    {
        _authority.ForcedStatus = status;

        var length = Dispatcher().Handle(Map(), Client, _response);

        Assert.Equal(60, length);
        Assert.Equal(code, _response[3]);
        Assert.Equal(lifetime, BinaryPrimitives.ReadUInt32BigEndian(_response.AsSpan(4)));
    }

    [Fact]
    public void Pcp_PreferFailure_PassedWithSuggestion()
    {
        var response = Handle(Map(suggestedPort: "9C45", options: PreferFailure));

        Assert.Equal("0281000B", response[..8]); // the fake can give 40000 only
        var call = Assert.Single(_authority.MapCalls);
        Assert.True(call.PreferFailure);
        Assert.Equal(40005, call.SuggestedExternalPort);
    }

    [Fact]
    public void Pcp_Delete_MapWithLifetimeZeroAndNonceAnswersLifetimeZero()
    {
        Handle(Map());

        var response = Handle(Map(lifetime: "00000000", suggestedPort: "9C40"));

        Assert.Equal("02810000" + "00000000", response[..16]);
        var delete = _authority.MapCalls[^1];
        Assert.Equal(TimeSpan.Zero, delete.Lifetime);
        Assert.NotNull(delete.Nonce);
        Assert.Equal(0, _authority.Count);
    }

    [Fact]
    public void Pcp_ProtocolZeroDelete_DeletesBothProtocols()
    {
        var response = Handle(Map(lifetime: "00000000", protocol: "00", internalPort: "0000"));

        Assert.Equal("02810000", response[..8]);
        Assert.Equal([(Client, MappingProtocol.Tcp), (Client, MappingProtocol.Udp)], _authority.DeleteAllCalls);
    }

    [Fact]
    public void Pcp_InternalPortZeroDelete_DeletesAllOfThatProtocol()
    {
        Handle(Map(lifetime: "00000000", protocol: Udp, internalPort: "0000", nonce: "0102030405060708090A0B0C"));

        Assert.Equal((Client, MappingProtocol.Udp), Assert.Single(_authority.DeleteAllCalls));
        // Only the mappings this nonce made go (RFC 6887 §15): the authority is told which nonce asked.
        Assert.Equal("0102030405060708090A0B0C", Assert.Single(_authority.DeleteAllNonces));
    }

    [Theory]
    [InlineData("00", "0000", "00000E10", 9)]  // every protocol, with a lifetime
    [InlineData("84", "1F90", "00000E10", 9)]  // SCTP
    [InlineData("06", "0000", "00000E10", 2)]  // every port: not for one client of a shared gateway
    public void Pcp_MappingWeDoNotGive_RefusedWithoutAskingPolicy(string protocol, string internalPort, string lifetime, byte code)
    {
        var length = Dispatcher().Handle(Map(lifetime: lifetime, protocol: protocol, internalPort: internalPort), Client, _response);

        Assert.Equal(60, length);
        Assert.Equal(code, _response[3]);
        Assert.Empty(_authority.MapCalls);
    }

    [Fact]
    public void Pcp_Filters_PassedToPolicyAndEchoedAfterTheMapData()
    {
        var filters = Filter("78", "0050", "00000000 00000000 0000FFFF C0000205") + Filter("80", "0000", "00000000 00000000 0000FFFF C0000264");
        var response = Handle(Map(options: filters));

        Assert.Equal("02810000", response[..8]);
        Assert.Equal(2 * (60 + 2 * 24), response.Length);
        // Echoed as sent (host bits and all); the policy gets the masked prefixes.
        Assert.Equal(filters.Replace(" ", "", StringComparison.Ordinal), response[120..], ignoreCase: true);
        var call = Assert.Single(_authority.MapCalls);
        Assert.Equal(
            [new RemoteFilter(IPNetwork.Parse("192.0.2.0/24"), 80), new RemoteFilter(IPNetwork.Parse("192.0.2.100/32"), 0)],
            call.Filters);
    }

    [Fact]
    public void Pcp_NoFilter_FiltersLeftAlone_AndAnswerIsSixtyBytes()
    {
        Assert.Equal(120, Handle(Map()).Length);
        Assert.Null(Assert.Single(_authority.MapCalls).Filters);
    }

    [Fact]
    public void Pcp_FilterPrefixZero_ClearsEarlierFilters()
    {
        Handle(Map(options: Filter("80", "0000", "00000000 00000000 0000FFFF C0000264") + Filter("00", "0000", "00000000 00000000 00000000 00000000")));

        Assert.Empty(Assert.Single(_authority.MapCalls).Filters!);
    }

    [Fact]
    public void Pcp_FilterOfTheOtherFamily_MalformedOptionWithoutAskingPolicy()
    {
        var response = Handle(Map(options: Filter("40", "0000", "20010DB8 00000000 00000000 00000000")));

        Assert.Equal("02810006", response[..8]);
        Assert.Empty(_authority.MapCalls);
    }

    [Fact]
    public void Pcp_TooManyFilters_ExcessiveRemotePeers()
    {
        _authority.ForcedStatus = MapStatus.ExcessiveRemotePeers;

        var response = Handle(Map(options: Filter("80", "0000", "00000000 00000000 0000FFFF C0000264")));

        Assert.Equal("0281000D", response[..8]);
        Assert.Equal(120, response.Length);
    }

    [Fact]
    public void Pcp_ThirdPartyForAnother_NotAuthorizedAndCountedAsRefusal()
    {
        var response = Handle(Map(options: ThirdParty(Other)));

        Assert.Equal("02810002", response[..8]);
        Assert.Empty(_authority.MapCalls);
        Assert.Equal(1, _counters.Refused);
    }

    [Fact]
    public void Pcp_AddressMismatch_Answered()
    {
        Assert.Equal("0281000C", Handle(Map(), IPAddress.Parse("10.99.0.3"))[..8]);
    }

    [Fact]
    public void Pcp_Announce_SuccessWithEpoch()
    {
        Assert.Equal("02800000" + "00000000" + EpochHex + "000000000000000000000000", Handle(Announce()));
    }

    [Fact]
    public void Pcp_RequestFromIpv4MappedSource_TreatedAsIpv4()
    {
        Handle(Map(), IPAddress.Parse("::ffff:10.99.0.2"));

        Assert.Equal(Client, Assert.Single(_authority.MapCalls).Client);
    }

    [Fact]
    public void UnknownVersion_PcpUnsupportedVersionNamingVersion2()
    {
        Assert.Equal("02810001" + "00000708" + EpochHex + "000000000000000000000000", Handle("03 01 0000 00000E10"));
    }

    [Fact]
    public void PcpTurnedOff_PcpRequest_NatPmpUnsupportedVersion()
    {
        Assert.Equal("00800001" + EpochHex, Handle(Map(), enablePcp: false));
        Assert.Empty(_authority.MapCalls);
    }

    [Fact]
    public void NatPmpUnknownOpcode_EchoedWithResult5()
    {
        Assert.Equal("00830005" + EpochHex, Handle("0003"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("00")]
    [InlineData("00 02 0000 1F90")]
    [InlineData("00 82 0000 00000000 1F90 9C40 00000E10")]
    [InlineData("02 01 0000")]
    public void MalformedOrResponse_DroppedAndCounted(string hex)
    {
        Assert.Equal("", Handle(hex));
        Assert.Equal(1, _counters.Dropped);
        Assert.Equal(1, _counters.Malformed);
    }

    [Fact]
    public void DefaultLogging_NeverNamesClientOrPort()
    {
        Handle("00 02 0000 1F90 0000 00000E10");
        Handle(Map(internalPort: "1F91"));
        Handle("00 02 0000 1F90 0000 00000000");
        Handle("0003");
        Handle("00");

        Assert.DoesNotContain(_log.Text, l => l.Contains("10.99.0.2", StringComparison.Ordinal) || l.Contains("40000", StringComparison.Ordinal));
    }

    [Fact]
    public void AuditLog_On_NamesClientAndPublicPort()
    {
        Handle("00 02 0000 1F90 0000 00000E10", audit: true);

        Assert.Contains(_log.Text, l => l.Contains("10.99.0.2", StringComparison.Ordinal) && l.Contains("40000", StringComparison.Ordinal));
    }

    [Fact]
    public void RandomDatagrams_NeverThrowAndAnswerWithinLimits()
    {
        var random = new Random(6887);
        var dispatcher = Dispatcher();
        var datagram = new byte[1300];
        const int Count = 20000;
        for (var i = 0; i < Count; i++)
        {
            var length = random.Next(0, datagram.Length);
            random.NextBytes(datagram.AsSpan(0, length));
            if (length > 0 && random.Next(3) > 0)
                datagram[0] = (byte)random.Next(0, 4);
            if (length > 1 && random.Next(2) > 0)
                datagram[1] &= 0x7F;
            if (length >= 24 && random.Next(2) > 0)
                Hex.Bytes(PcpVectors.Client).CopyTo(datagram, 8);

            var answered = dispatcher.Handle(datagram.AsSpan(0, length), Client, _response);

            Assert.InRange(answered, 0, PortMappingDispatcher.MaxResponseSize);
            if (answered > 0)
                Assert.True(_response[1] >= 0x80, "every answer is a response");
        }
        Assert.Equal(Count, _counters.Received);
    }
}
