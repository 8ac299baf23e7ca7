using System.Net;
using Portcullis.Core.Net;

namespace Portcullis.Core.Tests.Net;

public sealed class IpPacketTests
{
    private static byte[] IPv4Packet(string source, string destination, int length = 28)
    {
        var packet = new byte[length];
        packet[0] = 0x45;
        IPAddress.Parse(source).GetAddressBytes().CopyTo(packet, 12);
        IPAddress.Parse(destination).GetAddressBytes().CopyTo(packet, 16);
        return packet;
    }

    private static byte[] IPv6Packet(string source, string destination, int length = 48)
    {
        var packet = new byte[length];
        packet[0] = 0x60;
        IPAddress.Parse(source).GetAddressBytes().CopyTo(packet, 8);
        IPAddress.Parse(destination).GetAddressBytes().CopyTo(packet, 24);
        return packet;
    }

    [Fact]
    public void TryGetAddresses_IPv4Packet_ReadsFourByteAddresses()
    {
        var packet = IPv4Packet("10.99.0.2", "192.0.2.100");

        Assert.True(IpPacket.TryGetSource(packet, out var source));
        Assert.True(IpPacket.TryGetDestination(packet, out var destination));
        Assert.Equal(IPAddress.Parse("10.99.0.2"), new IPAddress(source));
        Assert.Equal(IPAddress.Parse("192.0.2.100"), new IPAddress(destination));
    }

    [Fact]
    public void TryGetAddresses_IPv6Packet_ReadsSixteenByteAddresses()
    {
        var packet = IPv6Packet("fd00::2", "2001:db8::100");

        Assert.True(IpPacket.TryGetSource(packet, out var source));
        Assert.True(IpPacket.TryGetDestination(packet, out var destination));
        Assert.Equal(IPAddress.Parse("fd00::2"), new IPAddress(source));
        Assert.Equal(IPAddress.Parse("2001:db8::100"), new IPAddress(destination));
    }

    [Fact]
    public void TryGetDestination_MinimalHeaders_Accepted()
    {
        Assert.True(IpPacket.TryGetDestination(IPv4Packet("10.0.0.1", "10.0.0.2", 20), out _));
        Assert.True(IpPacket.TryGetDestination(IPv6Packet("::1", "::2", 40), out _));
    }

    [Fact]
    public void TryGetDestination_TruncatedHeaders_Refused()
    {
        Assert.False(IpPacket.TryGetDestination(IPv4Packet("10.0.0.1", "10.0.0.2").AsSpan(0, 19), out var a));
        Assert.True(a.IsEmpty);
        Assert.False(IpPacket.TryGetSource(IPv6Packet("::1", "::2").AsSpan(0, 39), out _));
        Assert.False(IpPacket.TryGetDestination([], out _));
    }

    [Theory]
    [InlineData(0x00)]
    [InlineData(0x55)]
    [InlineData(0x75)]
    [InlineData(0xF0)]
    public void TryGetDestination_OtherVersions_Refused(byte firstByte)
    {
        var packet = new byte[60];
        packet[0] = firstByte;
        Assert.False(IpPacket.TryGetDestination(packet, out _));
        Assert.Equal(0, IpPacket.Version(packet));
    }

    [Fact]
    public void TryGetDestination_FeedsAllowedIpsLookup()
    {
        var table = new AllowedIps<string>();
        table.Insert(IPNetwork.Parse("192.0.2.0/24"), "remote");
        Assert.True(IpPacket.TryGetDestination(IPv4Packet("10.99.0.2", "192.0.2.100"), out var destination));
        Assert.Equal("remote", table.Lookup(destination));
    }
}
