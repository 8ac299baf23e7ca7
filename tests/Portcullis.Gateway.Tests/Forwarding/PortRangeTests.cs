using Portcullis.Gateway.Forwarding;

namespace Portcullis.Gateway.Tests.Forwarding;

public sealed class PortRangeTests
{
    [Theory]
    [InlineData("20000-59999", 20000, 59999)]
    [InlineData(" 1 - 65535 ", 1, 65535)]
    [InlineData("5000", 5000, 5000)]
    public void TryParse_Valid_Parsed(string text, int first, int last)
    {
        Assert.True(PortRange.TryParse(text, out var range));
        Assert.Equal(new PortRange((ushort)first, (ushort)last), range);
        Assert.Equal(last - first + 1, range.Value.Count);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("0-100")]
    [InlineData("200-100")]
    [InlineData("1-65536")]
    [InlineData("-5")]
    [InlineData("a-b")]
    [InlineData("1-2-3")]
    [InlineData("+1-2")]
    public void TryParse_Invalid_False(string? text)
    {
        Assert.False(PortRange.TryParse(text, out var range));
        Assert.Null(range);
    }

    [Fact]
    public void Constructor_ZeroOrReversed_Throws()
    {
        Assert.Throws<ArgumentException>(() => new PortRange(0, 10));
        Assert.Throws<ArgumentException>(() => new PortRange(10, 9));
    }

    [Fact]
    public void Contains_Bounds_Inclusive()
    {
        var range = new PortRange(100, 200);

        Assert.True(range.Contains(100));
        Assert.True(range.Contains(200));
        Assert.False(range.Contains(99));
        Assert.False(range.Contains(201));
    }
}
