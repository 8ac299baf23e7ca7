using System.Net;
using Portcullis.Client.Exposure;
using Portcullis.Client.Reachability;

namespace Portcullis.Client.Tests.Reachability;

public sealed class PortReachabilityTests
{
    private static readonly Listener TcpOn8080 = new(ListenerProtocol.Tcp, IPAddress.Any, 8080);
    private static readonly Listener UdpOn8080 = new(ListenerProtocol.Udp, IPAddress.Any, 8080);

    [Theory]
    [InlineData("reachable", ListenerProtocol.Tcp, true, "reachable")]
    [InlineData("closed", ListenerProtocol.Tcp, true, "nothing listening on internal port 8080")]
    [InlineData("closed", ListenerProtocol.Tcp, false, "nothing listening on internal port 8080")]
    [InlineData("no_answer", ListenerProtocol.Tcp, false, "nothing listening on internal port 8080")]
    [InlineData("no_answer", ListenerProtocol.Tcp, true, "blocked on this host")]
    [InlineData("no_answer", ListenerProtocol.Udp, true, "no answer from internal port 8080 (UDP services may stay silent)")]
    [InlineData("something new", ListenerProtocol.Tcp, true, "not checked (unknown answer 'something new')")]
    public void Verdict_GatewayAnswerAndLocalListeners_NamesTheCause(string result, ListenerProtocol protocol, bool listening, string expected)
    {
        IReadOnlyList<Listener> listeners = listening ? [TcpOn8080, UdpOn8080] : [];

        var verdict = PortReachability.Verdict(result, protocol, 8080, listeners);

        Assert.Equal(expected, verdict.Text);
        Assert.Equal(result == "reachable", verdict.Reachable);
    }

    [Fact]
    public void Verdict_ListenerOnAnotherPortOrProtocol_DoesNotCount()
    {
        IReadOnlyList<Listener> listeners = [new(ListenerProtocol.Tcp, IPAddress.Any, 8081), UdpOn8080];

        Assert.Equal("nothing listening on internal port 8080", PortReachability.Verdict("no_answer", ListenerProtocol.Tcp, 8080, listeners).Text);
    }
}
