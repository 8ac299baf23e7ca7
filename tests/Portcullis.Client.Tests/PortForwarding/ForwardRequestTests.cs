using Portcullis.Client.PortForwarding;

namespace Portcullis.Client.Tests.PortForwarding;

public sealed class ForwardRequestTests
{
    [Theory]
    [InlineData("tcp", ForwardProtocol.Tcp, null)]
    [InlineData("UDP:6881", ForwardProtocol.Udp, 6881)]
    [InlineData("both:1", ForwardProtocol.Both, 1)]
    public void TryParse_Valid(string text, ForwardProtocol protocol, int? port)
    {
        Assert.True(ForwardRequest.TryParse(text, out var request, out _));
        Assert.Equal(new ForwardRequest(protocol, (ushort?)port), request);
    }

    [Theory]
    [InlineData("sctp")]
    [InlineData("tcp:0")]
    [InlineData("tcp:65536")]
    [InlineData("tcp:")]
    [InlineData("")]
    public void TryParse_Invalid_ErrorText(string text)
    {
        Assert.False(ForwardRequest.TryParse(text, out var request, out var error));
        Assert.Null(request);
        Assert.NotEmpty(error);
    }
}
