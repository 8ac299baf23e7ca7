using System.Net;
using Portcullis.Client.PortForwarding;
using Portcullis.PortMapping;

namespace Portcullis.Client.Tests.PortForwarding;

public sealed class ForwardSpecTests
{
    [Theory]
    [InlineData("tcp", ForwardProtocol.Tcp, null)]
    [InlineData("UDP:6881", ForwardProtocol.Udp, 6881)]
    [InlineData("both:1", ForwardProtocol.Both, 1)]
    public void TryParse_Valid(string text, ForwardProtocol protocol, int? port)
    {
        Assert.True(ForwardSpec.TryParse(text, out var request, out _));
        Assert.Equal(new ForwardSpec(protocol, (ushort?)port), request);
    }

    [Theory]
    [InlineData("sctp")]
    [InlineData("tcp:0")]
    [InlineData("tcp:65536")]
    [InlineData("tcp:")]
    [InlineData("")]
    public void TryParse_Invalid_ErrorText(string text)
    {
        Assert.False(ForwardSpec.TryParse(text, out var request, out var error));
        Assert.Null(request);
        Assert.NotEmpty(error);
    }

    [Theory]
    [InlineData("198.51.100.0/24", "198.51.100.0/24")]
    [InlineData("203.0.113.21", "203.0.113.21/32")]
    [InlineData("2001:db8::/32", "2001:db8::/32")]
    public void TryParseAllowFrom_AddressOrPrefix_AnyRemotePort(string text, string prefix)
    {
        Assert.True(ForwardSpec.TryParseAllowFrom(text, out var filter, out _));
        Assert.Equal(new RemoteFilter(IPNetwork.Parse(prefix), 0), filter);
    }

    [Theory]
    [InlineData("198.51.100.7/24", "did you mean 198.51.100.0/24?")]
    [InlineData("198.51.100.0/33", "prefix length must be 1-32")]
    [InlineData("198.51.100.0/0", "prefix length must be 1-32")]
    [InlineData("example.org", "expected an IP address or a prefix")]
    [InlineData("198.51.100.0/", "prefix length must be 1-32")]
    public void TryParseAllowFrom_Bad_SaysWhatIsWrong(string text, string message)
    {
        Assert.False(ForwardSpec.TryParseAllowFrom(text, out _, out var error));
        Assert.Contains(message, error, StringComparison.Ordinal);
        Assert.Contains(text, error, StringComparison.Ordinal);
    }
}
