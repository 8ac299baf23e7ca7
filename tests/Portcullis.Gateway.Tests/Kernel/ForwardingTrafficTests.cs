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

        using var flow = await Flow.Open(lab.Remote, listener, Public, Web.Public);

        Assert.Equal(Remote, flow.Source);
        Assert.Equal("hello", await flow.Deliver("hello"));
        Assert.Equal("back", await flow.Reply("back"));
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

        Assert.False(await Flow.CanConnect(lab.Remote, Public, 30001));
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

        Assert.False(await Flow.CanConnect(lab.Remote, Client1, Web.Internal));
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
        using var flow = await Flow.Open(lab.Remote, listener, Public, Web.Public);
        Assert.Equal("before", await flow.Deliver("before"));

        lab.Table.Update([mapping], []);
        Assert.True(lab.Table.WaitForFlowCleanup(TimeSpan.FromSeconds(30)));
        Assert.Equal(1, lab.Table.FlowsDeleted); // what portcullis_conntrack_deletions_total reports

        // The flow's conntrack entry is gone, so its next packet is no longer DNATed to the client.
        Assert.Null(await flow.Deliver("after"));
        Assert.False(await Flow.CanConnect(lab.Remote, Public, Web.Public));
    }

    [Fact]
    public async Task LeaseExpiredInKernel_NewConnections_NoLongerForwarded()
    {
        using var lab = new ForwardingLab();
        lab.Table.Update([], [Tcp(Web.Public, Client1, Web.Internal, "peer-1", TimeSpan.FromSeconds(2))]);
        using var listener = ForwardingLab.TcpListener(lab.Client1, Web.Internal);
        Assert.True(await Flow.CanConnect(lab.Remote, Public, Web.Public));
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
        using var flow = await Flow.Open(lab.Remote, listener, Public, Web.Public);

        lab.Table.Uninstall();

        Assert.Null(await flow.Deliver("after"));
        Assert.DoesNotContain("portcullis", lab.Gateway.Ruleset(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RefreshMapping_EstablishedConnection_Continues()
    {
        using var lab = new ForwardingLab();
        var mapping = Tcp(Web.Public, Client1, Web.Internal, "peer-1", TimeSpan.FromMinutes(1));
        lab.Table.Update([], [mapping]);
        using var listener = ForwardingLab.TcpListener(lab.Client1, Web.Internal);
        using var flow = await Flow.Open(lab.Remote, listener, Public, Web.Public);

        lab.Table.Update([mapping], [mapping]);

        Assert.Equal("still here", await flow.Deliver("still here"));
    }

    [Fact]
    public async Task ClientEgress_Masqueraded_RemoteSeesPublicAddress()
    {
        using var lab = new ForwardingLab();
        using var listener = ForwardingLab.TcpListener(lab.Remote, 9000);

        using var flow = await Flow.Open(lab.Client1, listener, Remote, 9000);

        Assert.Equal(Public, flow.Source);
    }

    [Fact]
    public async Task Hairpin_SecondClient_ReachesMappedPortOnPublicAddress()
    {
        using var lab = new ForwardingLab();
        lab.Table.Update([], [Tcp(Web.Public, Client1, Web.Internal, "peer-1")]);
        using var listener = ForwardingLab.TcpListener(lab.Client1, Web.Internal);

        using var flow = await Flow.Open(lab.Client2, listener, Public, Web.Public);

        Assert.Equal("neighbour", await flow.Deliver("neighbour"));
        Assert.Equal("hi", await flow.Reply("hi"));
    }

    [Fact]
    public async Task PeerToPeer_Default_Dropped()
    {
        using var lab = new ForwardingLab();
        using var listener = ForwardingLab.TcpListener(lab.Client1, Web.Internal);

        Assert.False(await Flow.CanConnect(lab.Client2, Client1, Web.Internal));
        Assert.Null(await Net.TryAccept(listener));
    }

    [Fact]
    public async Task PeerToPeer_Allowed_Connects()
    {
        using var lab = new ForwardingLab(allowPeerToPeer: true);
        using var listener = ForwardingLab.TcpListener(lab.Client1, Web.Internal);

        using var flow = await Flow.Open(lab.Client2, listener, Client1, Web.Internal);
        Assert.Equal(Client2, flow.Source);
    }
}
