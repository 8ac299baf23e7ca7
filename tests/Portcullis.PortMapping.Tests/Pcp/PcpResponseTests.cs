using System.Net;
using Portcullis.PortMapping.Pcp;
using Portcullis.PortMapping.Tests.Support;
using static Portcullis.PortMapping.Tests.Support.PcpVectors;

namespace Portcullis.PortMapping.Tests.Pcp;

// Response header (RFC 6887 §7.2): version | R+opcode | reserved | result | lifetime | epoch | 96 reserved bits.
public sealed class PcpResponseTests
{
    private const uint Epoch = 0x01020304;
    private const string ZeroReserved = "000000000000000000000000";

    [Fact]
    public void WriteMap_Success_Exactly60BytesWithAssignedPortAndMappedAddress()
    {
        var map = PcpRequestParser.Parse(Map(suggestedPort: "9C41"), IPAddress.Parse("10.99.0.2")).Request!.Map!;
        var buffer = new byte[1100];

        var length = PcpResponse.WriteMap(buffer, map, 7200, Epoch, 40000, IPAddress.Parse("198.51.100.10"));

        Assert.Equal(60, length);
        Assert.Equal(
            Hex.Of(Hex.Bytes("02 81 00 00 | 00001C20 | 01020304 | " + ZeroReserved
                + Nonce + " 06 000000 | 1F90 | 9C40 | 00000000 00000000 0000FFFF C633640A")),
            Hex.Of(buffer.AsSpan(0, length)));
    }

    [Fact]
    public void WriteMap_NoAddress_AllZerosIpv4Mapped()
    {
        var map = new PcpMapData(Hex.Bytes(Nonce), 17, 53, 0, null);
        var buffer = new byte[60];

        PcpResponse.WriteMap(buffer, map, 0, Epoch, 0, null);

        Assert.Equal("00000000000000000000FFFF00000000", Hex.Of(buffer.AsSpan(44, 16)));
        Assert.Equal(0x11, buffer[36]);
    }

    [Fact]
    public void WriteAnnounce_HeaderOnlyLifetimeZero()
    {
        var buffer = new byte[64];
        Array.Fill(buffer, (byte)0xEE);

        var length = PcpResponse.WriteAnnounce(buffer, Epoch);

        Assert.Equal("02800000" + "00000000" + "01020304" + ZeroReserved, Hex.Of(buffer.AsSpan(0, length)));
    }

    [Fact]
    public void WriteError_Map_60BytesWithRequestDataCopiedNoOptionsLongLifetime()
    {
        var request = Map(suggestedPort: "9C41", suggestedAddress: "00000000 00000000 0000FFFF C633640B", options: ThirdParty(Other));
        request[24 + 13] = 0xAA; // MAP reserved bits from a sloppy client are not echoed
        var buffer = new byte[1100];

        var length = PcpResponse.WriteError(buffer, request, PcpResultCode.NotAuthorized, Epoch);

        Assert.Equal(60, length);
        Assert.Equal(
            Hex.Of(Hex.Bytes("02 81 00 02 | 00000708 | 01020304 | " + ZeroReserved
                + Nonce + " 06 000000 | 1F90 | 9C41 | 00000000 00000000 0000FFFF C633640B")),
            Hex.Of(buffer.AsSpan(0, length)));
    }

    [Theory]
    [InlineData(PcpResultCode.NetworkFailure, 30u)]
    [InlineData(PcpResultCode.NoResources, 30u)]
    [InlineData(PcpResultCode.UserExceededQuota, 30u)]
    [InlineData(PcpResultCode.CannotProvideExternal, 30u)]
    [InlineData(PcpResultCode.NotAuthorized, 1800u)]
    [InlineData(PcpResultCode.MalformedRequest, 1800u)]
    [InlineData(PcpResultCode.UnsupportedOption, 1800u)]
    [InlineData(PcpResultCode.AddressMismatch, 1800u)]
    [InlineData(PcpResultCode.UnsupportedProtocol, 1800u)]
    public void WriteError_Lifetime_ShortOrLongAsRfcSays(PcpResultCode result, uint lifetime)
    {
        var buffer = new byte[1100];

        PcpResponse.WriteError(buffer, Map(), result, Epoch);

        Assert.Equal((byte)result, buffer[3]);
        Assert.Equal(lifetime, System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(buffer.AsSpan(4)));
    }

    [Fact]
    public void WriteError_UnsupportedVersion_HeaderOnlyNamingVersion2()
    {
        var buffer = new byte[1100];

        var length = PcpResponse.WriteError(buffer, Hex.Bytes("03 01 0000 00000E10" + Client + "AABBCCDD"), PcpResultCode.UnsupportedVersion, Epoch);

        Assert.Equal("02810001" + "00000708" + "01020304" + ZeroReserved, Hex.Of(buffer.AsSpan(0, length)));
    }

    [Fact]
    public void WriteError_TwoByteUnknownVersion_StillAFullHeader()
    {
        var buffer = new byte[1100];

        var length = PcpResponse.WriteError(buffer, Hex.Bytes("01 00"), PcpResultCode.UnsupportedVersion, Epoch);

        Assert.Equal(24, length);
        Assert.Equal("02800001", Hex.Of(buffer.AsSpan(0, 4)));
    }

    [Fact]
    public void WritePeer_RequestFieldsBackWithAssignedPortAndAddress_80Bytes()
    {
        var request = PcpRequestParser.Parse(Peer(), IPAddress.Parse("10.99.0.2")).Request!.Peer!;
        var buffer = new byte[100];
        buffer.AsSpan().Fill(0xEE);

        var length = PcpResponse.WritePeer(buffer, request, 600, Epoch, 40001, IPAddress.Parse("198.51.100.10"));

        Assert.Equal(80, length);
        Assert.Equal(
            "02820000" + "00000258" + "01020304" + "000000000000000000000000"
            + Nonce + "06000000" + "1F90" + "9C41" + "00000000000000000000FFFFC633640A"
            + "0050" + "0000" + "00000000000000000000FFFFC0000264",
            Hex.Of(buffer.AsSpan(0, length)));
    }

    [Fact]
    public void WriteError_UnsupportedOpcode_WholeBodyEchoed()
    {
        var peer = Hex.Bytes(Header("02") + MapData() + "1F90 0000" + "00000000 00000000 0000FFFF C0000264");
        var buffer = new byte[1100];

        var length = PcpResponse.WriteError(buffer, peer, PcpResultCode.UnsupportedOpcode, Epoch);

        Assert.Equal(80, length);
        Assert.Equal("02820004", Hex.Of(buffer.AsSpan(0, 4)));
        Assert.Equal(Hex.Of(peer.AsSpan(24)), Hex.Of(buffer.AsSpan(24, 56)));
    }

    [Fact]
    public void WriteError_OversizedRequest_EchoCappedAt1100()
    {
        var request = new byte[1500];
        Hex.Bytes(Header("00")).CopyTo(request, 0);
        request[1499] = 0x77;
        var buffer = new byte[1100];

        var length = PcpResponse.WriteError(buffer, request, PcpResultCode.MalformedRequest, Epoch);

        Assert.Equal(1100, length);
    }

    [Fact]
    public void WriteError_UnalignedRequest_PaddedWithZerosToFour()
    {
        var request = Hex.Bytes(Header("00") + "AABBCC");
        var buffer = new byte[1100];
        Array.Fill(buffer, (byte)0xEE);

        var length = PcpResponse.WriteError(buffer, request, PcpResultCode.MalformedRequest, Epoch);

        Assert.Equal(28, length);
        Assert.Equal("AABBCC00", Hex.Of(buffer.AsSpan(24, 4)));
    }

    [Fact]
    public void WriteError_ShortMapRequest_Still60BytesZeroFilled()
    {
        var buffer = new byte[1100];
        Array.Fill(buffer, (byte)0xEE);

        var length = PcpResponse.WriteError(buffer, Hex.Bytes(Header("01")), PcpResultCode.MalformedRequest, Epoch);

        Assert.Equal(60, length);
        Assert.True(buffer.AsSpan(24, 36).IndexOfAnyExcept((byte)0) < 0);
    }

    [Fact]
    public void WriteError_Success_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => PcpResponse.WriteError(new byte[1100], Map(), PcpResultCode.Success, Epoch));
    }
}
