using Portcullis.Gateway.Tests.Kernel.Support;
using static Portcullis.Gateway.Tests.Kernel.Support.Entries;

namespace Portcullis.Gateway.Tests.Kernel;

/// <summary>
/// Real packets through the installed table: remote — gw — clients in namespaces (<see cref="ForwardingLab"/>).
/// Every claim is checked from both ends: what the sender could do and what the receiver saw.
/// </summary>
public sealed class ForwardingTrafficTests
{
    private static readonly ForwardingLab.Mapping Web = new(30000, 8080);

    [Fact]
    public async Task Mapping_RemoteConnects_ClientSeesRemoteRealAddress()
    {
        using var lab = new ForwardingLab();
        lab.Table.Update([], [Tcp(Web.Public, Client1, Web.Internal, "peer-1", TimeSpan.FromMinutes(5))]);
        using var listener = ForwardingLab.TcpListener(lab.Client1, Web.Internal);
        using var remote = ForwardingLab.TcpClient(lab.Remote);

        Assert.True(await Net.TryConnect(remote, Public, Web.Public));
        using var accepted = await Net.TryAccept(listener);

        Assert.NotNull(accepted);
        Assert.Equal(Remote, Net.RemoteAddress(accepted));
        await Net.Send(remote, "hello");
        Assert.Equal("hello", await Net.TryReceive(accepted));
        await Net.Send(accepted, "back");
        Assert.Equal("back", await Net.TryReceive(remote));
    }

    [Fact]
    public async Task UdpMapping_RoundTrip_RemoteAddressSeenAndReplyFromPublicPort()
    {
        using var lab = new ForwardingLab();
        lab.Table.Update([], [Udp(30002, Client1, 5000, "peer-1")]);
        using var client = ForwardingLab.UdpSocket(lab.Client1, 5000);
        using var remote = ForwardingLab.UdpSocket(lab.Remote, 41000);

        await Net.SendTo(remote, "ping", Public, 30002);
        var request = await Net.TryReceiveFrom(client);
        Assert.NotNull(request);
        Assert.Equal("ping", request.Value.Text);
        Assert.Equal(Remote, request.Value.From.Address);

        await Net.SendTo(client, "pong", request.Value.From.Address, (ushort)request.Value.From.Port);
        var reply = await Net.TryReceiveFrom(remote);
        Assert.NotNull(reply);
        Assert.Equal("pong", reply.Value.Text);
        Assert.Equal(new System.Net.IPEndPoint(Public, 30002), reply.Value.From);
    }

    [Fact]
    public async Task UnmappedPorts_TcpAndUdp_StayDark()
    {
        using var lab = new ForwardingLab();
        lab.Table.Update([], [Tcp(Web.Public, Client1, Web.Internal, "peer-1")]);
        using var tcpMapped = ForwardingLab.TcpListener(lab.Client1, Web.Internal);
        using var tcpSamePort = ForwardingLab.TcpListener(lab.Client1, 30001);
        using var udpInternal = ForwardingLab.UdpSocket(lab.Client1, Web.Internal);
        using var udpSamePort = ForwardingLab.UdpSocket(lab.Client1, Web.Public);
        using var remoteUdp = ForwardingLab.UdpSocket(lab.Remote, 41000);

        using (var remote = ForwardingLab.TcpClient(lab.Remote))
            Assert.False(await Net.TryConnect(remote, Public, 30001));
        // TCP 30000 is mapped; UDP 30000 is not.
        await Net.SendTo(remoteUdp, "knock", Public, Web.Public);

        Assert.Null(await Net.TryAccept(tcpSamePort));
        Assert.Null(await Net.TryAccept(tcpMapped));
        Assert.Null(await Net.TryReceiveFrom(udpInternal));
        Assert.Null(await Net.TryReceiveFrom(udpSamePort));
    }

    [Fact]
    public async Task TunnelAddressFromOutside_RoutedStraightAtClient_ReachesNothing()
    {
        using var lab = new ForwardingLab();
        lab.Table.Update([], [Tcp(Web.Public, Client1, Web.Internal, "peer-1")]);
        lab.Remote.Ip("route", "add", "10.99.0.0/16", "via", "198.51.100.10");
        using var listener = ForwardingLab.TcpListener(lab.Client1, Web.Internal);
        using var remote = ForwardingLab.TcpClient(lab.Remote);

        Assert.False(await Net.TryConnect(remote, Client1, Web.Internal));
        Assert.Null(await Net.TryAccept(listener));
    }

    [Fact]
    public async Task GatewayTunnelAddressFromOutside_PortMappingServerUnreachable()
    {
        using var lab = new ForwardingLab();
        lab.Remote.Ip("route", "add", "10.99.0.0/16", "via", "198.51.100.10");
        using var server = lab.Gateway.Run(() =>
        {
            var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork,
                System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp);
            socket.Bind(new System.Net.IPEndPoint(Entries.Gateway, 5351));
            return socket;
        });
        using var remote = ForwardingLab.UdpSocket(lab.Remote, 41000);
        using var client = ForwardingLab.UdpSocket(lab.Client1, 41001);

        await Net.SendTo(remote, "from outside", Entries.Gateway, 5351);
        Assert.Null(await Net.TryReceiveFrom(server));

        // The same server is reachable from the tunnel side.
        await Net.SendTo(client, "from a client", Entries.Gateway, 5351);
        var received = await Net.TryReceiveFrom(server);
        Assert.NotNull(received);
        Assert.Equal("from a client", received.Value.Text);
    }

    [Fact]
    public async Task RemoveMapping_EstablishedConnection_Stops()
    {
        using var lab = new ForwardingLab();
        var mapping = Tcp(Web.Public, Client1, Web.Internal, "peer-1");
        lab.Table.Update([], [mapping]);
        using var listener = ForwardingLab.TcpListener(lab.Client1, Web.Internal);
        using var remote = ForwardingLab.TcpClient(lab.Remote);
        Assert.True(await Net.TryConnect(remote, Public, Web.Public));
        using var accepted = await Net.TryAccept(listener);
        Assert.NotNull(accepted);
        await Net.Send(remote, "before");
        Assert.Equal("before", await Net.TryReceive(accepted));

        lab.Table.Update([mapping], []);

        // The flow's conntrack entry is gone, so its next packet is no longer DNATed to the client.
        await Net.Send(remote, "after");
        Assert.Null(await Net.TryReceive(accepted));
        using var again = ForwardingLab.TcpClient(lab.Remote);
        Assert.False(await Net.TryConnect(again, Public, Web.Public));
    }

    [Fact]
    public async Task LeaseExpiredInKernel_NewConnections_NoLongerForwarded()
    {
        using var lab = new ForwardingLab();
        lab.Table.Update([], [Tcp(Web.Public, Client1, Web.Internal, "peer-1", TimeSpan.FromSeconds(2))]);
        using var listener = ForwardingLab.TcpListener(lab.Client1, Web.Internal);
        using (var first = ForwardingLab.TcpClient(lab.Remote))
            Assert.True(await Net.TryConnect(first, Public, Web.Public));
        (await Net.TryAccept(listener))?.Dispose();

        // As if the daemon had died: nobody removes the mapping, the kernel ends the lease by itself.
        await Task.Delay(TimeSpan.FromSeconds(3));

        using var late = ForwardingLab.TcpClient(lab.Remote);
        Assert.False(await Net.TryConnect(late, Public, Web.Public));
        Assert.Null(await Net.TryAccept(listener));
        Assert.Contains("30000 : 10.99.0.2 . 8080", lab.Gateway.Ruleset(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Uninstall_EstablishedConnection_Stops()
    {
        using var lab = new ForwardingLab();
        lab.Table.Update([], [Tcp(Web.Public, Client1, Web.Internal, "peer-1")]);
        using var listener = ForwardingLab.TcpListener(lab.Client1, Web.Internal);
        using var remote = ForwardingLab.TcpClient(lab.Remote);
        Assert.True(await Net.TryConnect(remote, Public, Web.Public));
        using var accepted = await Net.TryAccept(listener);
        Assert.NotNull(accepted);

        lab.Table.Uninstall();

        await Net.Send(remote, "after");
        Assert.Null(await Net.TryReceive(accepted));
        Assert.DoesNotContain("portcullis", lab.Gateway.Ruleset(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RefreshMapping_EstablishedConnection_Continues()
    {
        using var lab = new ForwardingLab();
        var mapping = Tcp(Web.Public, Client1, Web.Internal, "peer-1", TimeSpan.FromMinutes(1));
        lab.Table.Update([], [mapping]);
        using var listener = ForwardingLab.TcpListener(lab.Client1, Web.Internal);
        using var remote = ForwardingLab.TcpClient(lab.Remote);
        Assert.True(await Net.TryConnect(remote, Public, Web.Public));
        using var accepted = await Net.TryAccept(listener);
        Assert.NotNull(accepted);

        lab.Table.Update([mapping], [mapping]);

        await Net.Send(remote, "still here");
        Assert.Equal("still here", await Net.TryReceive(accepted));
    }

    [Fact]
    public async Task ClientEgress_Masqueraded_RemoteSeesPublicAddress()
    {
        using var lab = new ForwardingLab();
        using var listener = ForwardingLab.TcpListener(lab.Remote, 9000);
        using var client = ForwardingLab.TcpClient(lab.Client1);

        Assert.True(await Net.TryConnect(client, Remote, 9000));
        using var accepted = await Net.TryAccept(listener);

        Assert.NotNull(accepted);
        Assert.Equal(Public, Net.RemoteAddress(accepted));
    }

    [Fact]
    public async Task Hairpin_SecondClient_ReachesMappedPortOnPublicAddress()
    {
        using var lab = new ForwardingLab();
        lab.Table.Update([], [Tcp(Web.Public, Client1, Web.Internal, "peer-1")]);
        using var listener = ForwardingLab.TcpListener(lab.Client1, Web.Internal);
        using var client2 = ForwardingLab.TcpClient(lab.Client2);

        Assert.True(await Net.TryConnect(client2, Public, Web.Public));
        using var accepted = await Net.TryAccept(listener);

        Assert.NotNull(accepted);
        await Net.Send(client2, "neighbour");
        Assert.Equal("neighbour", await Net.TryReceive(accepted));
        await Net.Send(accepted, "hi");
        Assert.Equal("hi", await Net.TryReceive(client2));
    }

    [Fact]
    public async Task PeerToPeer_Default_Dropped()
    {
        using var lab = new ForwardingLab();
        using var listener = ForwardingLab.TcpListener(lab.Client1, Web.Internal);
        using var client2 = ForwardingLab.TcpClient(lab.Client2);

        Assert.False(await Net.TryConnect(client2, Client1, Web.Internal));
        Assert.Null(await Net.TryAccept(listener));
    }

    [Fact]
    public async Task PeerToPeer_Allowed_Connects()
    {
        using var lab = new ForwardingLab(allowPeerToPeer: true);
        using var listener = ForwardingLab.TcpListener(lab.Client1, Web.Internal);
        using var client2 = ForwardingLab.TcpClient(lab.Client2);

        Assert.True(await Net.TryConnect(client2, Client1, Web.Internal));
        using var accepted = await Net.TryAccept(listener);
        Assert.NotNull(accepted);
        Assert.Equal(Client2, Net.RemoteAddress(accepted));
    }
}
