using System.Net;
using System.Net.Sockets;
using Portcullis.Gateway.Tests.Kernel.Support;
using static Portcullis.Gateway.Tests.Kernel.Support.Entries;

namespace Portcullis.Gateway.Tests.Kernel;

/// <summary>
/// Where tunnel addresses may appear and what the tunnel reaches, with real packets through the installed table
/// (<see cref="ForwardingLab"/>, reverse-path filtering off in the gateway): a tunnel source counts only on the
/// tunnel, the gateway's tunnel address answers only the tunnel, peers reach the gateway only for what it serves them
/// and reach no link-local, private or CGNAT destination unless the operator opened it.
/// </summary>
public sealed class TunnelGuardTrafficTests
{
    private const ushort PortMapping = 5351;

    [Fact]
    public async Task SpoofedTunnelSource_FromManagementLan_PortMappingServerNeverSeesIt()
    {
        using var lab = new ForwardingLab(Network(), management: true);
        var management = lab.Management!;
        management.Ip("addr", "add", $"{Client1}/32", "dev", "m0"); // the attacker claims peer 1's address
        using var server = Bound(lab.Gateway, SocketType.Dgram, Entries.Gateway, PortMapping);
        using var spoofer = Bound(management, SocketType.Dgram, Client1, 41000);

        await Net.SendTo(spoofer, "map my port 22", Entries.Gateway, PortMapping);
        Assert.Null(await Net.TryReceiveFrom(server));

        // The real peer 1, through the tunnel, is heard.
        using var peer = ForwardingLab.UdpSocket(lab.Client1, 41001);
        await Net.SendTo(peer, "from the tunnel", Entries.Gateway, PortMapping);
        Assert.Equal("from the tunnel", (await Net.TryReceiveFrom(server))?.Text);
    }

    [Fact]
    public async Task GatewayTunnelAddress_FromManagementLan_Unreachable()
    {
        using var lab = new ForwardingLab(Network(), management: true);
        using var server = Bound(lab.Gateway, SocketType.Dgram, Entries.Gateway, PortMapping);
        using var host = Bound(lab.Management!, SocketType.Dgram, ForwardingLab.ManagementHost, 41000);

        await Net.SendTo(host, "hello", Entries.Gateway, PortMapping);

        Assert.Null(await Net.TryReceiveFrom(server));
    }

    [Fact]
    public async Task SpoofedTunnelSource_FromPublicSide_NeverReachesAnotherPeersForward()
    {
        using var lab = new ForwardingLab();
        lab.Table.Update([], [Udp(30002, Client2, 5000, "peer-2")]);
        lab.Remote.Ip("addr", "add", $"{Client1}/32", "dev", "r0");
        using var target = ForwardingLab.UdpSocket(lab.Client2, 5000);
        using var spoofer = Bound(lab.Remote, SocketType.Dgram, Client1, 41000);

        await Net.SendTo(spoofer, "reply to peer 1", Public, 30002);
        Assert.Null(await Net.TryReceiveFrom(target));

        // From the remote's own address the forward works.
        using var honest = ForwardingLab.UdpSocket(lab.Remote, 41001);
        await Net.SendTo(honest, "hello", Public, 30002);
        Assert.Equal("hello", (await Net.TryReceiveFrom(target))?.Text);
    }

    [Fact]
    public async Task PeerToGateway_ServicesOnAnyAddress_Unreachable_PortMappingAndPingAnswered()
    {
        using var lab = new ForwardingLab(Network(), management: true);
        using var ssh = Bound(lab.Gateway, SocketType.Stream, IPAddress.Any, 2222);
        using var server = Bound(lab.Gateway, SocketType.Dgram, Entries.Gateway, PortMapping);

        Assert.False(await Flow.CanConnect(lab.Client1, Public, 2222), "a service on the public address");
        Assert.False(await Flow.CanConnect(lab.Client1, ForwardingLab.ManagementGateway, 2222), "a service on the management address");
        Assert.False(await Flow.CanConnect(lab.Client1, Entries.Gateway, 2222), "a service on the tunnel address");
        Assert.Null(await Net.TryAccept(ssh));

        using var peer = ForwardingLab.UdpSocket(lab.Client1, 41000);
        await Net.SendTo(peer, "map", Entries.Gateway, PortMapping);
        Assert.Equal("map", (await Net.TryReceiveFrom(server))?.Text);
        Assert.Equal(0, lab.Client1.TryExec("ping", "-n", "-q", "-c", "1", "-W", "2", Entries.Gateway.ToString()).ExitCode);
    }

    [Fact]
    public async Task PeerToGatewayDns_OnlyWhenAllowed()
    {
        using (var closed = new ForwardingLab())
        {
            using var resolver = Bound(closed.Gateway, SocketType.Dgram, Entries.Gateway, 53);
            using var peer = ForwardingLab.UdpSocket(closed.Client1, 41000);
            await Net.SendTo(peer, "query", Entries.Gateway, 53);
            Assert.Null(await Net.TryReceiveFrom(resolver));
        }

        using var open = new ForwardingLab(Network() with { AllowDns = true });
        using var openResolver = Bound(open.Gateway, SocketType.Dgram, Entries.Gateway, 53);
        using var openPeer = ForwardingLab.UdpSocket(open.Client1, 41000);
        await Net.SendTo(openPeer, "query", Entries.Gateway, 53);
        Assert.Equal("query", (await Net.TryReceiveFrom(openResolver))?.Text);
    }

    private static readonly IPAddress[] NonPublic =
    [
        IPAddress.Parse("169.254.169.254"), IPAddress.Parse("10.20.0.5"), IPAddress.Parse("172.20.0.1"),
        IPAddress.Parse("192.168.7.7"), IPAddress.Parse("100.64.1.1"),
    ];

    [Fact]
    public async Task Egress_NonPublicDestinationsBehindPublicInterface_DroppedByDefault()
    {
        using var lab = new ForwardingLab();
        using var listener = BehindPublicInterface(lab);

        foreach (var destination in NonPublic)
            Assert.False(await Flow.CanConnect(lab.Client1, destination, 80), $"{destination} was reached");
        Assert.Null(await Net.TryAccept(listener));
        using var flow = await Flow.Open(lab.Client1, listener, Remote, 80); // the internet still is
        Assert.Equal(Public, flow.Source);
    }

    [Fact]
    public async Task Egress_AllowedDestinations_OpenExactlyThose()
    {
        using var lab = new ForwardingLab(Network() with
        {
            AllowedDestinations = [IPNetwork.Parse("169.254.169.254/32"), IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("10.20.0.0/16")],
        });
        using var listener = BehindPublicInterface(lab);

        using (await Flow.Open(lab.Client1, listener, IPAddress.Parse("169.254.169.254"), 80))
        {
        }
        using (await Flow.Open(lab.Client1, listener, IPAddress.Parse("10.20.0.5"), 80))
        {
        }
        Assert.False(await Flow.CanConnect(lab.Client1, IPAddress.Parse("192.168.7.7"), 80));
        Assert.False(await Flow.CanConnect(lab.Client1, IPAddress.Parse("100.64.1.1"), 80));
    }

    /// <summary>The non-public destinations as addresses of the remote host, routed there by the gateway; a listener on port 80.</summary>
    private static Socket BehindPublicInterface(ForwardingLab lab)
    {
        foreach (var destination in NonPublic)
        {
            lab.Remote.Ip("addr", "add", $"{destination}/32", "dev", "r0");
            lab.Gateway.Ip("route", "add", $"{destination}/32", "via", Remote.ToString());
        }
        return ForwardingLab.TcpListener(lab.Remote, 80);
    }

    private static Socket Bound(TestNamespace ns, SocketType type, IPAddress address, ushort port) => ns.Run(() =>
    {
        var socket = new Socket(AddressFamily.InterNetwork, type, type == SocketType.Stream ? ProtocolType.Tcp : ProtocolType.Udp);
        socket.Bind(new IPEndPoint(address, port));
        if (type == SocketType.Stream)
            socket.Listen();
        return socket;
    });
}
