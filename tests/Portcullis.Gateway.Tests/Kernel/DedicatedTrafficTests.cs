using Portcullis.Gateway.Kernel;
using Portcullis.Gateway.Tests.Kernel.Support;
using static Portcullis.Gateway.Tests.Kernel.Support.Entries;

namespace Portcullis.Gateway.Tests.Kernel;

/// <summary>
/// Real packets through dedicated routes (<see cref="ForwardingLab"/>, whose gateway holds .10 shared and .11
/// dedicated): client1 owns .11; client2 shares .10. Checked from both ends.
/// </summary>
public sealed class DedicatedTrafficTests
{
    private static readonly HashSet<ushort> Blocked = [25, 445];

    [Fact]
    public async Task Egress_DedicatedClientLeavesFromItsAddress_OtherClientFromTheShared()
    {
        using var lab = new ForwardingLab();
        lab.Table.SetDedicated([new DedicatedRoute(Dedicated, Client1, ForwardAllPorts: false)], Blocked);
        using var listener = ForwardingLab.TcpListener(lab.Remote, 9000);

        using var client1 = ForwardingLab.TcpClient(lab.Client1);
        Assert.True(await Net.TryConnect(client1, Remote, 9000));
        using var fromClient1 = await Net.TryAccept(listener);
        using var client2 = ForwardingLab.TcpClient(lab.Client2);
        Assert.True(await Net.TryConnect(client2, Remote, 9000));
        using var fromClient2 = await Net.TryAccept(listener);

        Assert.NotNull(fromClient1);
        Assert.NotNull(fromClient2);
        Assert.Equal(Dedicated, Net.RemoteAddress(fromClient1));
        Assert.Equal(Public, Net.RemoteAddress(fromClient2));
        await Net.Send(fromClient1, "reply");
        Assert.Equal("reply", await Net.TryReceive(client1));
    }

    [Fact]
    public async Task EveryPort_RemoteReachesAnyPort_BlockedPortAndSharedAddressStayDark()
    {
        using var lab = new ForwardingLab();
        lab.Table.SetDedicated([new DedicatedRoute(Dedicated, Client1, ForwardAllPorts: true)], Blocked);
        using var any = ForwardingLab.TcpListener(lab.Client1, 4711);
        using var blocked = ForwardingLab.TcpListener(lab.Client1, 445);
        using var udp = ForwardingLab.UdpSocket(lab.Client1, 6000);
        using var remoteUdp = ForwardingLab.UdpSocket(lab.Remote, 41000);

        using (var remote = ForwardingLab.TcpClient(lab.Remote))
        {
            Assert.True(await Net.TryConnect(remote, Dedicated, 4711));
            using var accepted = await Net.TryAccept(any);
            Assert.NotNull(accepted);
            Assert.Equal(Remote, Net.RemoteAddress(accepted));
        }
        await Net.SendTo(remoteUdp, "knock", Dedicated, 6000);
        var datagram = await Net.TryReceiveFrom(udp);
        Assert.NotNull(datagram);
        Assert.Equal("knock", datagram.Value.Text);

        using (var remote = ForwardingLab.TcpClient(lab.Remote))
            Assert.False(await Net.TryConnect(remote, Dedicated, 445));
        Assert.Null(await Net.TryAccept(blocked));
        // The shared address is not the peer's: nothing forwards its ports there.
        using (var remote = ForwardingLab.TcpClient(lab.Remote))
            Assert.False(await Net.TryConnect(remote, Public, 4711));
        Assert.Null(await Net.TryAccept(any));
    }

    [Fact]
    public async Task MappingOnDedicatedAddress_WinsOverEveryPort()
    {
        using var lab = new ForwardingLab();
        lab.Table.SetDedicated([new DedicatedRoute(Dedicated, Client1, ForwardAllPorts: true)], Blocked);
        lab.Table.Update([], [Tcp(30000, Client1, 8080, "p1") with { PublicAddress = Dedicated }]);
        using var mapped = ForwardingLab.TcpListener(lab.Client1, 8080);
        using var samePort = ForwardingLab.TcpListener(lab.Client1, 30000);
        using var remote = ForwardingLab.TcpClient(lab.Remote);

        Assert.True(await Net.TryConnect(remote, Dedicated, 30000));

        using var accepted = await Net.TryAccept(mapped);
        Assert.NotNull(accepted);
        Assert.Null(await Net.TryAccept(samePort));
    }

    [Fact]
    public async Task Hairpin_OtherClient_ReachesDedicatedAddressFromTheTunnel()
    {
        using var lab = new ForwardingLab();
        lab.Table.SetDedicated([new DedicatedRoute(Dedicated, Client1, ForwardAllPorts: true)], Blocked);
        using var listener = ForwardingLab.TcpListener(lab.Client1, 4711);
        using var client2 = ForwardingLab.TcpClient(lab.Client2);

        Assert.True(await Net.TryConnect(client2, Dedicated, 4711));
        using var accepted = await Net.TryAccept(listener);

        Assert.NotNull(accepted);
        await Net.Send(client2, "neighbour");
        Assert.Equal("neighbour", await Net.TryReceive(accepted));
        await Net.Send(accepted, "hi");
        Assert.Equal("hi", await Net.TryReceive(client2));
    }

    [Fact]
    public async Task EveryPortRemoved_EstablishedFlowStops_EgressStays()
    {
        using var lab = new ForwardingLab();
        lab.Table.SetDedicated([new DedicatedRoute(Dedicated, Client1, ForwardAllPorts: true)], Blocked);
        using var listener = ForwardingLab.TcpListener(lab.Client1, 4711);
        using var remote = ForwardingLab.TcpClient(lab.Remote);
        Assert.True(await Net.TryConnect(remote, Dedicated, 4711));
        using var accepted = await Net.TryAccept(listener);
        Assert.NotNull(accepted);
        await Net.Send(remote, "before");
        Assert.Equal("before", await Net.TryReceive(accepted));

        // The peer's session ended: every-port forwarding goes, its egress route stays.
        lab.Table.SetDedicated([new DedicatedRoute(Dedicated, Client1, ForwardAllPorts: false)], Blocked);

        await Net.Send(remote, "after");
        Assert.Null(await Net.TryReceive(accepted));
        using (var again = ForwardingLab.TcpClient(lab.Remote))
            Assert.False(await Net.TryConnect(again, Dedicated, 4711));
        using var remoteListener = ForwardingLab.TcpListener(lab.Remote, 9000);
        using var client1 = ForwardingLab.TcpClient(lab.Client1);
        Assert.True(await Net.TryConnect(client1, Remote, 9000));
        using var fromClient1 = await Net.TryAccept(remoteListener);
        Assert.NotNull(fromClient1);
        Assert.Equal(Dedicated, Net.RemoteAddress(fromClient1));
    }

    [Fact]
    public async Task AddressMovedToAnotherClient_PreviousOwnersFlowStops_NewOwnerLeavesFromIt()
    {
        using var lab = new ForwardingLab();
        lab.Table.SetDedicated([new DedicatedRoute(Dedicated, Client1, ForwardAllPorts: false)], Blocked);
        using var listener = ForwardingLab.TcpListener(lab.Remote, 9000);
        using var client1 = ForwardingLab.TcpClient(lab.Client1);
        Assert.True(await Net.TryConnect(client1, Remote, 9000));
        using var fromClient1 = await Net.TryAccept(listener);
        Assert.NotNull(fromClient1);
        Assert.Equal(Dedicated, Net.RemoteAddress(fromClient1));

        lab.Table.SetDedicated([new DedicatedRoute(Dedicated, Client2, ForwardAllPorts: false)], Blocked);

        // The old owner's established flow no longer leaves from the address, in either direction.
        await Net.Send(client1, "after");
        Assert.Null(await Net.TryReceive(fromClient1));
        await Net.Send(fromClient1, "back");
        Assert.Null(await Net.TryReceive(client1));
        using var client2 = ForwardingLab.TcpClient(lab.Client2);
        Assert.True(await Net.TryConnect(client2, Remote, 9000));
        using var fromClient2 = await Net.TryAccept(listener);
        Assert.NotNull(fromClient2);
        Assert.Equal(Dedicated, Net.RemoteAddress(fromClient2));
        await Net.Send(fromClient2, "yours");
        Assert.Equal("yours", await Net.TryReceive(client2));
        // Client1 starts afresh from the shared address.
        using var again = ForwardingLab.TcpClient(lab.Client1);
        Assert.True(await Net.TryConnect(again, Remote, 9000));
        using var fromAgain = await Net.TryAccept(listener);
        Assert.NotNull(fromAgain);
        Assert.Equal(Public, Net.RemoteAddress(fromAgain));
    }

    [Fact]
    public async Task Uninstall_EveryPortFlow_Stops()
    {
        using var lab = new ForwardingLab();
        lab.Table.SetDedicated([new DedicatedRoute(Dedicated, Client1, ForwardAllPorts: true)], Blocked);
        using var listener = ForwardingLab.TcpListener(lab.Client1, 4711);
        using var remote = ForwardingLab.TcpClient(lab.Remote);
        Assert.True(await Net.TryConnect(remote, Dedicated, 4711));
        using var accepted = await Net.TryAccept(listener);
        Assert.NotNull(accepted);

        lab.Table.Uninstall();

        await Net.Send(remote, "after");
        Assert.Null(await Net.TryReceive(accepted));
        Assert.DoesNotContain("portcullis", lab.Gateway.Ruleset(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GatewaysOwnPort_UnderEveryPortAndUnderAMapping_StillReachesTheGateway()
    {
        using var lab = new ForwardingLab();
        lab.Table.SetDedicated([new DedicatedRoute(Dedicated, Client1, ForwardAllPorts: true)], Blocked);
        lab.Table.Update([], [Udp(51820, Client2, 51820, "p2")]);
        using var gateway = ForwardingLab.UdpSocket(lab.Gateway, 51820); // as the WireGuard listen port
        using var client1 = ForwardingLab.UdpSocket(lab.Client1, 51820);
        using var client2 = ForwardingLab.UdpSocket(lab.Client2, 51820);
        using var remote = ForwardingLab.UdpSocket(lab.Remote, 41000);

        await Net.SendTo(remote, "to the dedicated address", Dedicated, 51820);
        Assert.Equal("to the dedicated address", (await Net.TryReceiveFrom(gateway))?.Text);
        await Net.SendTo(remote, "to the shared address", Public, 51820);
        Assert.Equal("to the shared address", (await Net.TryReceiveFrom(gateway))?.Text);

        Assert.Null(await Net.TryReceiveFrom(client1));
        Assert.Null(await Net.TryReceiveFrom(client2));
        // Ports the gateway does not listen on are still forwarded.
        using var other = ForwardingLab.UdpSocket(lab.Client1, 51821);
        await Net.SendTo(remote, "every port", Dedicated, 51821);
        Assert.Equal("every port", (await Net.TryReceiveFrom(other))?.Text);
    }
}
