using Portcullis.Client.Connect;
using Portcullis.Client.KillSwitch;
using Portcullis.Client.PortForwarding;
using Portcullis.PortMapping;

namespace Portcullis.Client.Tests.Connect;

// Which ports the kill switch accepts on the tunnel, from the command line and the leases held.
public sealed class WantedPortsTests
{
    private static PortLease Lease(ForwardProtocol protocol, ushort external, ushort @internal) =>
        new(protocol, null, external, @internal, DateTimeOffset.UnixEpoch);

    [Fact]
    public void WantedPorts_FixedInternalPort_ThatPortOnlyWhateverTheExternal()
    {
        var ports = ClientConnection.WantedPorts([Lease(ForwardProtocol.Tcp, 40000, 8080)], new ForwardSpec(ForwardProtocol.Tcp, 8080));
        Assert.Equal([new ForwardedPort(ForwardProtocol.Tcp, 8080)], ports);
    }

    [Fact]
    public void WantedPorts_GatewayPicked_EachLeasesInternalPortWithItsProtocol()
    {
        var ports = ClientConnection.WantedPorts(
            [Lease(ForwardProtocol.Tcp, 40000, 40000), Lease(ForwardProtocol.Udp, 40001, 40001)], new ForwardSpec(ForwardProtocol.Both, null));
        Assert.Equal([new ForwardedPort(ForwardProtocol.Tcp, 40000), new ForwardedPort(ForwardProtocol.Udp, 40001)], ports);
    }

    [Fact]
    public void WantedPorts_NoLeaseYet_NothingOpenUnlessAskedFor()
    {
        Assert.Empty(ClientConnection.WantedPorts([], new ForwardSpec(ForwardProtocol.Udp, null)));
        Assert.Equal([new ForwardedPort(ForwardProtocol.Both, 6881)], ClientConnection.WantedPorts([], new ForwardSpec(ForwardProtocol.Both, 6881)));
    }

    [Fact]
    public void PortsText_BothOnOnePort_TheNumberAlone()
    {
        var tcp = Lease(ForwardProtocol.Tcp, 40000, 8080);
        Assert.Equal("40000", ClientConnection.PortsText([tcp, Lease(ForwardProtocol.Udp, 40000, 8080)], tcp));
        Assert.Equal("40000", ClientConnection.PortsText([tcp], tcp));
    }

    [Fact]
    public void PortsText_BothOnDifferentPorts_EachWithItsProtocol()
    {
        var tcp = Lease(ForwardProtocol.Tcp, 40000, 8080);
        Assert.Equal("40000/tcp 40417/udp", ClientConnection.PortsText([tcp, Lease(ForwardProtocol.Udp, 40417, 8080)], tcp));
    }
}
