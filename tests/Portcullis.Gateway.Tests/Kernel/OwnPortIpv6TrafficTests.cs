using System.Net;
using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Tests.Kernel.Support;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Tests.Kernel;

/// <summary>
/// Real IPv6 packets to a port the gateway itself listens on (its WireGuard port, an SSH daemon), with an element for
/// that very key written straight into table ip6 portcullis' <c>mappings</c> (bypassing the allocator, which would
/// never choose it): the gateway's own traffic stays the gateway's, on the shared public IPv6 address and on a
/// dedicated one, with or without remote-peer filters on the element — the prerouting rule ahead of the mappings'
/// DNAT, as in table ip (DedicatedTrafficTests' GatewaysOwnPort test). Other mapped ports are still forwarded.
/// </summary>
public sealed class OwnPortIpv6TrafficTests
{
    private const ushort WireGuardPort = 51820;
    private static readonly IPAddress Dedicated6 = IPAddress.Parse("2001:db8:1::11");
    private static readonly TimeSpan Lease = TimeSpan.FromHours(1);

    [Theory]
    [InlineData(false)] // the shared public IPv6 address
    [InlineData(true)] // a dedicated IPv6 address (a mapping there, no every-port route)
    public async Task GatewaysUdpPort_UnderAMapping_ReachesTheGateway_AnotherMappedPortForwarded(bool dedicated)
    {
        using var lab = Lab();
        var address = dedicated ? Dedicated6 : ForwardingLab.Public6;
        lab.Table.Update([], [Udp6(address, WireGuardPort), Udp6(address, WireGuardPort + 1)]);
        using var gateway = ForwardingLab.UdpSocket(lab.Gateway, WireGuardPort, ipv6: true); // as the WireGuard listen port
        using var client2 = ForwardingLab.UdpSocket(lab.Client2, WireGuardPort, ipv6: true);
        using var client2Other = ForwardingLab.UdpSocket(lab.Client2, WireGuardPort + 1, ipv6: true);
        using var remote = ForwardingLab.UdpSocket(lab.Remote, 41000, ipv6: true);

        // The other mapped port first: the map and its DNAT work, so what follows is the own-port rule's doing.
        await Net.SendTo(remote, "mapped", address, WireGuardPort + 1);
        Assert.Equal("mapped", (await Net.TryReceiveFrom(client2Other))?.Text);

        await Net.SendTo(remote, "handshake", address, WireGuardPort);
        var received = await Net.TryReceiveFrom(gateway);
        Assert.Equal("handshake", received?.Text);
        Assert.Equal(ForwardingLab.Remote6, received?.From.Address);
        Assert.Null(await Net.TryReceiveFrom(client2));
    }

    [Fact]
    public async Task GatewaysUdpPort_UnderAFilteredMapping_NotDroppedForTheRemoteTheFilterLeavesOut()
    {
        using var lab = Lab();
        // The filter admits another remote only: without the own-port rule first, its drop would take the gateway's traffic.
        lab.Table.Update([], [Udp6(ForwardingLab.Public6, WireGuardPort) with { Filters = [new RemoteFilter(IPNetwork.Parse("2001:db8:9::/64"), 0)] }]);
        using var gateway = ForwardingLab.UdpSocket(lab.Gateway, WireGuardPort, ipv6: true);
        using var remote = ForwardingLab.UdpSocket(lab.Remote, 41000, ipv6: true);

        await Net.SendTo(remote, "handshake", ForwardingLab.Public6, WireGuardPort);

        Assert.Equal("handshake", (await Net.TryReceiveFrom(gateway))?.Text);
    }

    [Fact]
    public async Task GatewaysTcpListener_UnderAMapping_AcceptsTheConnection_TheMappingsPeerGetsNone()
    {
        using var lab = Lab();
        const ushort ssh = 2222;
        lab.Table.Update([], [new ForwardingEntry(ForwardingLab.Public6, MappingProtocol.Tcp, ssh, ForwardingLab.Client2Ipv6, ssh, "p2", Lease)]);
        using var gateway = ForwardingLab.TcpListener(lab.Gateway, ssh, ipv6: true); // as an SSH daemon
        using var client2 = ForwardingLab.TcpListener(lab.Client2, ssh, ipv6: true);

        using var flow = await Flow.Open(lab.Remote, gateway, ForwardingLab.Public6, ssh);

        Assert.Equal(ForwardingLab.Remote6, flow.Source);
        Assert.Equal("hello", await flow.Deliver("hello"));
        Assert.Null(await Net.TryAccept(client2));
    }

    private static ForwardingEntry Udp6(IPAddress address, int port) =>
        new(address, MappingProtocol.Udp, (ushort)port, ForwardingLab.Client2Ipv6, (ushort)port, "p2", Lease);

    private static ForwardingLab Lab()
    {
        var lab = new ForwardingLab(ForwardingLab.Nat66Network());
        try
        {
            lab.Gateway.Ip("-6", "addr", "add", $"{Dedicated6}/64", "dev", "eth0", "nodad");
            return lab;
        }
        catch
        {
            lab.Dispose();
            throw;
        }
    }
}
