using System.Net;
using Portcullis.PortMapping.Pcp;
using Portcullis.PortMapping.Tests.Support;

namespace Portcullis.PortMapping.Tests.Pcp;

// RFC 6887 §13.3 byte layout: code 3, reserved, length 20; reserved, prefix length, remote port, remote address.
public sealed class PcpFilterOptionTests
{
    [Fact]
    public void Write_Ipv4Prefix_MappedFormWithNinetySixAdded()
    {
        var bytes = new byte[PcpFilterOption.Size];

        PcpFilterOption.Write(bytes, PcpFilterOption.From(new RemoteFilter(IPNetwork.Parse("198.51.100.0/24"), 443)));

        Assert.Equal("03000014" + "007801BB" + "00000000000000000000FFFFC6336400", Hex.Of(bytes));
    }

    [Fact]
    public void Write_Ipv6HostAnyPort()
    {
        var bytes = new byte[PcpFilterOption.Size];

        PcpFilterOption.Write(bytes, PcpFilterOption.From(new RemoteFilter(IPNetwork.Parse("2001:db8::7/128"), 0)));

        Assert.Equal("03000014" + "00800000" + "20010DB8000000000000000000000007", Hex.Of(bytes));
    }

    [Fact]
    public void Write_RemoveAll_PrefixZeroAndZeroAddress()
    {
        var bytes = new byte[PcpFilterOption.Size];

        PcpFilterOption.Write(bytes, PcpFilterOption.RemoveAll);

        Assert.Equal("03000014" + "00000000" + new string('0', 32), Hex.Of(bytes));
    }

    [Fact]
    public void ToRemote_MasksHostBitsAndTakesNinetySixOffIpv4()
    {
        var remote = PcpFilterOption.ToRemote([new PcpFilter(117, 80, IPAddress.Parse("203.0.113.77")), new PcpFilter(64, 0, IPAddress.Parse("2001:db8::1"))]);

        Assert.Equal(
            [new RemoteFilter(IPNetwork.Parse("203.0.112.0/21"), 80), new RemoteFilter(IPNetwork.Parse("2001:db8::/64"), 0)],
            remote);
    }

    [Fact]
    public void ToRemote_NoFilters_NullMeansUnchanged()
    {
        Assert.Null(PcpFilterOption.ToRemote([]));
    }

    [Fact]
    public void ToRemote_PrefixZero_DropsTheFiltersBeforeIt()
    {
        var remote = PcpFilterOption.ToRemote(
            [new PcpFilter(128, 0, IPAddress.Parse("192.0.2.1")), PcpFilterOption.RemoveAll, new PcpFilter(128, 0, IPAddress.Parse("192.0.2.2"))]);

        Assert.Equal([new RemoteFilter(IPNetwork.Parse("192.0.2.2/32"), 0)], remote);
    }

    [Fact]
    public void RoundTrip_WrittenOptionParsesBackInAMapRequest()
    {
        var filter = new RemoteFilter(IPNetwork.Parse("192.0.2.128/25"), 6881);
        var option = new byte[PcpFilterOption.Size];
        PcpFilterOption.Write(option, PcpFilterOption.From(filter));
        var request = PcpVectors.Map(options: Hex.Of(option));

        var parsed = PcpRequestParser.Parse(request, IPAddress.Parse("10.99.0.2"));

        Assert.Equal(PcpParseStatus.Valid, parsed.Status);
        Assert.Equal([filter], PcpFilterOption.ToRemote(parsed.Request!.Filters));
    }

    [Theory]
    [InlineData("192.0.2.0/24", 0, "192.0.2.7/32", 80, true)]
    [InlineData("192.0.2.0/24", 80, "192.0.2.7/32", 0, false)]
    [InlineData("192.0.2.0/24", 80, "192.0.2.7/32", 80, true)]
    [InlineData("192.0.2.0/25", 0, "192.0.2.128/32", 0, false)]
    [InlineData("192.0.2.0/25", 0, "192.0.2.0/24", 0, false)]
    public void Covers_PrefixInsideAndPortAnyOrEqual(string outer, int outerPort, string inner, int innerPort, bool covers)
    {
        var a = new RemoteFilter(IPNetwork.Parse(outer), (ushort)outerPort);
        var b = new RemoteFilter(IPNetwork.Parse(inner), (ushort)innerPort);

        Assert.Equal(covers, a.Covers(b));
    }

    [Fact]
    public void Minimal_DropsDuplicatesAndCoveredFilters_KeepsPartialOverlaps()
    {
        var wide = new RemoteFilter(IPNetwork.Parse("192.0.2.0/24"), 80);
        var host = new RemoteFilter(IPNetwork.Parse("192.0.2.7/32"), 0);
        var inside = new RemoteFilter(IPNetwork.Parse("192.0.2.9/32"), 80);

        Assert.Equal([wide, host], RemoteFilter.Minimal([wide, host, inside, wide, host]));
    }
}
