using System.Net;
using Portcullis.Gateway.Forwarding;
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
        Dedicate(lab, Client1, everyPort: false);
        using var listener = ForwardingLab.TcpListener(lab.Remote, 9000);

        using var fromClient1 = await Flow.Open(lab.Client1, listener, Remote, 9000);
        using var fromClient2 = await Flow.Open(lab.Client2, listener, Remote, 9000);

        Assert.Equal(Dedicated, fromClient1.Source);
        Assert.Equal(Public, fromClient2.Source);
        Assert.Equal("reply", await fromClient1.Reply("reply"));
    }

    [Fact]
    public async Task EveryPort_RemoteReachesAnyPort_BlockedPortAndSharedAddressStayDark()
    {
        using var lab = new ForwardingLab();
        Dedicate(lab, Client1, everyPort: true);
        using var any = ForwardingLab.TcpListener(lab.Client1, 4711);
        using var blocked = ForwardingLab.TcpListener(lab.Client1, 445);
        using var udp = ForwardingLab.UdpSocket(lab.Client1, 6000);
        using var remoteUdp = ForwardingLab.UdpSocket(lab.Remote, 41000);

        using (var flow = await Flow.Open(lab.Remote, any, Dedicated, 4711))
            Assert.Equal(Remote, flow.Source);
        await Net.SendTo(remoteUdp, "knock", Dedicated, 6000);
        var datagram = await Net.TryReceiveFrom(udp);
        Assert.NotNull(datagram);
        Assert.Equal("knock", datagram.Value.Text);

        Assert.False(await Flow.CanConnect(lab.Remote, Dedicated, 445));
        Assert.Null(await Net.TryAccept(blocked));
        // The shared address is not the peer's: nothing forwards its ports there.
        Assert.False(await Flow.CanConnect(lab.Remote, Public, 4711));
        Assert.Null(await Net.TryAccept(any));
    }

    [Fact]
    public async Task MappingOnDedicatedAddress_WinsOverEveryPort()
    {
        using var lab = new ForwardingLab();
        Dedicate(lab, Client1, everyPort: true);
        lab.Table.Update([], [Tcp(30000, Client1, 8080, "p1") with { PublicAddress = Dedicated }]);
        using var mapped = ForwardingLab.TcpListener(lab.Client1, 8080);
        using var samePort = ForwardingLab.TcpListener(lab.Client1, 30000);

        using var flow = await Flow.Open(lab.Remote, mapped, Dedicated, 30000);

        Assert.Null(await Net.TryAccept(samePort));
    }

    [Fact]
    public async Task Hairpin_OtherClient_ReachesDedicatedAddressFromTheTunnel()
    {
        using var lab = new ForwardingLab();
        Dedicate(lab, Client1, everyPort: true);
        using var listener = ForwardingLab.TcpListener(lab.Client1, 4711);

        using var flow = await Flow.Open(lab.Client2, listener, Dedicated, 4711);

        Assert.Equal("neighbour", await flow.Deliver("neighbour"));
        Assert.Equal("hi", await flow.Reply("hi"));
    }

    [Fact]
    public async Task EveryPortRemoved_EstablishedFlowStops_EgressStays()
    {
        using var lab = new ForwardingLab();
        Dedicate(lab, Client1, everyPort: true);
        using var listener = ForwardingLab.TcpListener(lab.Client1, 4711);
        using var flow = await Flow.Open(lab.Remote, listener, Dedicated, 4711);
        Assert.Equal("before", await flow.Deliver("before"));

        // The peer's session ended: every-port forwarding goes, its egress route stays.
        Dedicate(lab, Client1, everyPort: false);
        Assert.True(lab.Table.WaitForFlowCleanup(TimeSpan.FromSeconds(30)));

        Assert.Null(await flow.Deliver("after"));
        Assert.False(await Flow.CanConnect(lab.Remote, Dedicated, 4711));
        using var remoteListener = ForwardingLab.TcpListener(lab.Remote, 9000);
        using var fromClient1 = await Flow.Open(lab.Client1, remoteListener, Remote, 9000);
        Assert.Equal(Dedicated, fromClient1.Source);
    }

    [Fact]
    public async Task AddressMovedToAnotherClient_PreviousOwnersFlowStops_NewOwnerLeavesFromIt()
    {
        using var lab = new ForwardingLab();
        Dedicate(lab, Client1, everyPort: false);
        using var listener = ForwardingLab.TcpListener(lab.Remote, 9000);
        using var fromClient1 = await Flow.Open(lab.Client1, listener, Remote, 9000);
        Assert.Equal(Dedicated, fromClient1.Source);

        Dedicate(lab, Client2, everyPort: false);

        // The old owner's established flow no longer leaves from the address, in either direction.
        Assert.Null(await fromClient1.Deliver("after"));
        Assert.Null(await fromClient1.Reply("back"));
        using var fromClient2 = await Flow.Open(lab.Client2, listener, Remote, 9000);
        Assert.Equal(Dedicated, fromClient2.Source);
        Assert.Equal("yours", await fromClient2.Reply("yours"));
        // Client1 starts afresh from the shared address.
        using var again = await Flow.Open(lab.Client1, listener, Remote, 9000);
        Assert.Equal(Public, again.Source);
    }

    [Fact]
    public async Task Uninstall_EveryPortFlow_Stops()
    {
        using var lab = new ForwardingLab();
        Dedicate(lab, Client1, everyPort: true);
        using var listener = ForwardingLab.TcpListener(lab.Client1, 4711);
        using var flow = await Flow.Open(lab.Remote, listener, Dedicated, 4711);

        lab.Table.Uninstall();

        Assert.Null(await flow.Deliver("after"));
        Assert.DoesNotContain("portcullis", lab.Gateway.Ruleset(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GatewaysOwnPort_UnderEveryPortAndUnderAMapping_StillReachesTheGateway()
    {
        using var lab = new ForwardingLab();
        Dedicate(lab, Client1, everyPort: true);
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

    /// <summary>The gateway's dedicated address (.11) belongs to <paramref name="client"/>.</summary>
    private static void Dedicate(ForwardingLab lab, IPAddress client, bool everyPort) =>
        lab.Table.SetDedicated([new DedicatedRoute(Dedicated, client, everyPort)], Blocked);
}
