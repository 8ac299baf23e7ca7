using System.Net;
using Portcullis.Core.Net;

namespace Portcullis.Core.Tests.Net;

public sealed class IpPrefixTests
{
    [Theory]
    [InlineData("10.9.8.7", 24, "10.9.8.0/24")]
    [InlineData("10.9.8.7", 0, "0.0.0.0/0")]
    [InlineData("10.9.8.7", 32, "10.9.8.7/32")]
    [InlineData("10.9.255.7", 19, "10.9.224.0/19")]
    [InlineData("2001:db8:abcd:d234::1", 50, "2001:db8:abcd:c000::/50")]
    [InlineData("2001:db8::1", 128, "2001:db8::1/128")]
    public void Masked_ClearsHostBits(string address, int length, string expected)
    {
        Assert.Equal(IPNetwork.Parse(expected), IpPrefix.Masked(IPAddress.Parse(address), length));
    }

    [Fact]
    public void Masked_LengthOutOfRange_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => IpPrefix.Masked(IPAddress.Parse("10.0.0.1"), 33));
        Assert.Throws<ArgumentOutOfRangeException>(() => IpPrefix.Masked(IPAddress.Parse("::1"), -1));
    }

    [Theory]
    [InlineData("10.0.0.1/24", "10.0.0.0/24")]
    [InlineData("10.0.0.1", "10.0.0.1/32")]
    [InlineData("fd00::1/64", "fd00::/64")]
    [InlineData("fd00::1", "fd00::1/128")]
    [InlineData("0.0.0.0/0", "0.0.0.0/0")]
    public void TryParse_ValidText_ReturnsMaskedPrefix(string text, string expected)
    {
        Assert.True(IpPrefix.TryParse(text, out var prefix));
        Assert.Equal(IPNetwork.Parse(expected), prefix);
    }

    [Theory]
    [InlineData("")]
    [InlineData("10.0.0.1/")]
    [InlineData("10.0.0.1/33")]
    [InlineData("fd00::/129")]
    [InlineData("10.0.0.1/-1")]
    [InlineData("10.0.0.1/+8")]
    [InlineData("10.0.0.1/ 8")]
    [InlineData("not-an-address/8")]
    [InlineData("fe80::1%2/64")]
    [InlineData("10.0.0.1/8/8")]
    public void TryParse_InvalidText_ReturnsFalse(string text)
    {
        Assert.False(IpPrefix.TryParse(text, out _));
    }
}
