using System.Net;
using Portcullis.Core.Net;

namespace Portcullis.Core.Tests.Net;

public sealed class IpAddressFormsTests
{
    [Theory]
    [InlineData("::ffff:10.99.0.2", "10.99.0.2")]
    [InlineData("10.99.0.2", "10.99.0.2")]
    [InlineData("2001:db8::2", "2001:db8::2")]
    [InlineData("::10.99.0.2", "::10.99.0.2")] // IPv4-compatible, not mapped: an IPv6 address of its own
    public void Unmapped_MappedIpv4BecomesIpv4_EverythingElseAsItIs(string given, string expected)
    {
        var unmapped = IPAddress.Parse(given).Unmapped();

        Assert.Equal(IPAddress.Parse(expected), unmapped);
        Assert.Equal(IPAddress.Parse(expected).AddressFamily, unmapped.AddressFamily);
    }
}
