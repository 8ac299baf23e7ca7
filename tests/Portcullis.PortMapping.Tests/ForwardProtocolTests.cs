namespace Portcullis.PortMapping.Tests;

public sealed class ForwardProtocolTests
{
    [Theory]
    [InlineData("tcp", ForwardProtocol.Tcp)]
    [InlineData("UDP", ForwardProtocol.Udp)]
    [InlineData("Both", ForwardProtocol.Both)]
    public void TryParse_EachName_AnyCase(string text, ForwardProtocol expected)
    {
        Assert.True(ForwardProtocols.TryParse(text, out var parsed));
        Assert.Equal(expected, parsed);
        Assert.Equal(text.ToLowerInvariant(), parsed.Name());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("sctp")]
    [InlineData("tcp ")]
    [InlineData("6")]
    public void TryParse_AnythingElse_Refused(string? text) => Assert.False(ForwardProtocols.TryParse(text, out _));

    [Fact]
    public void Mappings_BothIsTcpThenUdp_OneIsItself()
    {
        Assert.Equal([MappingProtocol.Tcp], ForwardProtocol.Tcp.Mappings());
        Assert.Equal([MappingProtocol.Udp], ForwardProtocol.Udp.Mappings());
        Assert.Equal([MappingProtocol.Tcp, MappingProtocol.Udp], ForwardProtocol.Both.Mappings());
    }

    [Theory]
    [InlineData(ForwardProtocol.Tcp, MappingProtocol.Tcp, true)]
    [InlineData(ForwardProtocol.Tcp, MappingProtocol.Udp, false)]
    [InlineData(ForwardProtocol.Udp, MappingProtocol.Udp, true)]
    [InlineData(ForwardProtocol.Udp, MappingProtocol.Tcp, false)]
    [InlineData(ForwardProtocol.Both, MappingProtocol.Tcp, true)]
    [InlineData(ForwardProtocol.Both, MappingProtocol.Udp, true)]
    public void Includes_AsItsMappings(ForwardProtocol forward, MappingProtocol mapping, bool expected)
    {
        Assert.Equal(expected, forward.Includes(mapping));
        Assert.Equal(expected, forward.Mappings().Contains(mapping));
    }
}
