using System.Net;
using Portcullis.Client.Exposure;
using Portcullis.Client.PortForwarding;
using Portcullis.PortMapping;

namespace Portcullis.Client.Tests.Exposure;

public sealed class ExposureCheckTests
{
    private static readonly IPAddress[] Tunnel = [IPAddress.Parse("10.99.0.2"), IPAddress.Parse("fd00:99::2")];

    private static Listener Tcp(string address, ushort port) => new(ListenerProtocol.Tcp, IPAddress.Parse(address), port);

    [Fact]
    public void Find_Wildcard_Warned()
    {
        var found = ExposureCheck.Find([Tcp("0.0.0.0", 8080), Tcp("::", 8080)], ForwardProtocol.Tcp, 8080, Tunnel);
        Assert.Equal(2, found.Count);
        Assert.All(found, e => Assert.Contains("every interface", e.Reason, StringComparison.Ordinal));
    }

    [Fact]
    public void Find_PhysicalAddress_Warned()
    {
        var exposure = Assert.Single(ExposureCheck.Find([Tcp("203.0.113.21", 8080)], ForwardProtocol.Tcp, 8080, Tunnel));
        Assert.Contains("outside the tunnel", exposure.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Find_TunnelLoopbackAndMappedTunnelAddress_Fine()
    {
        Assert.Empty(ExposureCheck.Find(
            [Tcp("10.99.0.2", 8080), Tcp("127.0.0.1", 8080), Tcp("::1", 8080), Tcp("::ffff:10.99.0.2", 8080), Tcp("fd00:99::2", 8080)],
            ForwardProtocol.Tcp, 8080, Tunnel));
    }

    [Fact]
    public void Find_OtherPortOrProtocol_Ignored()
    {
        Listener[] listeners = [Tcp("0.0.0.0", 9090), new(ListenerProtocol.Udp, IPAddress.Any, 8080)];
        Assert.Empty(ExposureCheck.Find(listeners, ForwardProtocol.Tcp, 8080, Tunnel));
        Assert.Single(ExposureCheck.Find(listeners, ForwardProtocol.Udp, 8080, Tunnel));
        Assert.Single(ExposureCheck.Find(listeners, ForwardProtocol.Both, 8080, Tunnel));
    }

    [Fact]
    public void Find_ParsedProcText_EndToEnd()
    {
        if (!BitConverter.IsLittleEndian)
            return;
        const string text = """
              sl  local_address rem_address   st
               0: 00000000:1F90 00000000:0000 0A
               1: 0200630A:1F91 00000000:0000 0A
            """;
        var listeners = ProcNetParser.Parse(text, ListenerProtocol.Tcp);
        Assert.Single(ExposureCheck.Find(listeners, ForwardProtocol.Tcp, 8080, Tunnel));
        Assert.Empty(ExposureCheck.Find(listeners, ForwardProtocol.Tcp, 8081, Tunnel));
    }
}
