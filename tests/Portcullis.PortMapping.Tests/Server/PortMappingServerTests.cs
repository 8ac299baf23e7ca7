using System.Net;
using System.Net.Sockets;
using Portcullis.PortMapping.Server;
using Portcullis.PortMapping.Tests.Support;
using Portcullis.Testing;

namespace Portcullis.PortMapping.Tests.Server;

// The real socket on loopback: the server bound to one 127.0.0.x address, clients on another.
public sealed class PortMappingServerTests
{
    private static readonly IPAddress ServerAddress = IPAddress.Parse("127.0.0.11");
    private static readonly IPAddress ClientAddress = IPAddress.Parse("127.0.0.12");
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(5);

    private readonly AuthorityDouble _authority = new();

    private PortMappingServer Server(int announcePort = 5350) =>
        new(_authority, new PortMappingServerOptions { ListenAddress = ServerAddress, Port = 0, AnnouncePort = announcePort });

    private static Socket Client()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(ClientAddress, 0));
        return socket;
    }

    private static async Task<(byte[] Bytes, IPEndPoint From)> ReceiveAsync(Socket socket)
    {
        var buffer = new byte[2048];
        using var timeout = new CancellationTokenSource(Patience);
        var any = socket.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any;
        var result = await socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(any, 0), timeout.Token);
        return (buffer[..result.ReceivedBytes], (IPEndPoint)result.RemoteEndPoint);
    }

    [Fact]
    public async Task ArrivalInterface_Matches_Answered()
    {
        await using var server = new PortMappingServer(_authority, new PortMappingServerOptions
        {
            ListenAddress = ServerAddress,
            Port = 0,
            ArrivalInterfaceIndex = System.Net.NetworkInformation.NetworkInterface.LoopbackInterfaceIndex,
        });
        await server.StartAsync();
        using var client = Client();

        await client.SendToAsync(Hex.Bytes("00 02 0000 1F90 0000 00000E10"), server.LocalEndPoint!);

        Assert.Equal(ServerAddress, (await ReceiveAsync(client)).From.Address);
        Assert.Equal(0, server.Counters.ForeignInterface);
    }

    [Fact]
    public async Task ArrivalInterface_Other_DroppedUnreadAndCounted()
    {
        // Loopback traffic arrives on lo; the server expects another interface (the tunnel, on a gateway).
        await using var server = new PortMappingServer(_authority, new PortMappingServerOptions
        {
            ListenAddress = ServerAddress,
            Port = 0,
            ArrivalInterfaceIndex = System.Net.NetworkInformation.NetworkInterface.LoopbackInterfaceIndex + 1000,
        });
        await server.StartAsync();
        using var client = Client();

        await client.SendToAsync(Hex.Bytes("00 02 0000 1F90 0000 00000E10"), server.LocalEndPoint!);

        var deadline = DateTime.UtcNow + Patience;
        while (server.Counters.ForeignInterface == 0 && DateTime.UtcNow < deadline)
            await Task.Delay(10);
        Assert.Equal(1, server.Counters.ForeignInterface);
        Assert.Empty(_authority.MapCalls);
        Assert.Equal(0, server.Counters.Answered);
    }

    [Fact]
    public async Task NatPmpMap_AnsweredFromTheBoundAddressWithExactBytes()
    {
        await using var server = Server();
        await server.StartAsync();
        using var client = Client();

        await client.SendToAsync(Hex.Bytes("00 02 0000 1F90 0000 00000E10"), server.LocalEndPoint!);
        var (bytes, from) = await ReceiveAsync(client);

        Assert.Equal(server.LocalEndPoint, from);
        Assert.Equal(ServerAddress, from.Address);
        Assert.Equal("00820000" + "000004D2" + "1F90" + "9C40" + "00000E10", Hex.Of(bytes));
        Assert.Equal(ClientAddress, Assert.Single(_authority.MapCalls).Client);
        // The worker counts an answer once its send returned, which may be after the client already holds it.
        Assert.True(SpinWait.SpinUntil(() => server.Counters.Answered >= 1, Patience));
        Assert.Equal(1, server.Counters.Answered);
    }

    [Fact]
    public async Task PcpMap_ClientFieldMatchesSource_60ByteAnswer()
    {
        await using var server = Server();
        await server.StartAsync();
        using var client = Client();

        await client.SendToAsync(PcpVectors.Map(client: "00000000 00000000 0000FFFF 7F00000C"), server.LocalEndPoint!);
        var (bytes, from) = await ReceiveAsync(client);

        Assert.Equal(server.LocalEndPoint, from);
        Assert.Equal(60, bytes.Length);
        Assert.Equal("02810000", Hex.Of(bytes.AsSpan(0, 4)));
        Assert.Equal("9C40", Hex.Of(bytes.AsSpan(42, 2)));
    }

    [Fact]
    public async Task BadInput_CountedAndServerKeepsServing()
    {
        await using var server = Server();
        await server.StartAsync();
        using var client = Client();
        var random = new Random(6886);

        // Drain answers while sending, so the client's receive buffer never overflows and hides the last one.
        var expected = "00800000" + "000004D2" + "C633640A";
        var answered = Task.Run(async () =>
        {
            while (Hex.Of((await ReceiveAsync(client)).Bytes) != expected)
            {
            }
        });
        var garbage = new byte[3000];
        for (var i = 0; i < 200; i++)
        {
            var length = random.Next(0, garbage.Length);
            random.NextBytes(garbage.AsSpan(0, length));
            await client.SendToAsync(garbage.AsMemory(0, length), server.LocalEndPoint!);
        }
        await client.SendToAsync(new byte[65000], server.LocalEndPoint!);
        // The burst may overflow the server's socket buffer (the kernel drops, not the server): retry as a client does.
        for (var attempt = 0; attempt < 20 && !answered.IsCompleted; attempt++)
        {
            await client.SendToAsync(Hex.Bytes("00 00"), server.LocalEndPoint!);
            await Task.WhenAny(answered, Task.Delay(250));
        }

        await answered.WaitAsync(Patience);
        Assert.True(server.Counters.Received > 1);
        Assert.True(server.Counters.Malformed > 0);
    }

    [Fact]
    public async Task Announce_UnicastsPcpAnnounceAndNatPmpAddressToEachClient()
    {
        using var listener = Client();
        var port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        await using var server = Server(announcePort: port);
        await server.StartAsync();
        _authority.EpochSeconds = 0;

        var reached = server.Announce([ClientAddress]);

        Assert.Equal(1, reached);
        var (first, from) = await ReceiveAsync(listener);
        var (second, _) = await ReceiveAsync(listener);
        Assert.Equal(server.LocalEndPoint, from);
        Assert.Equal(["02800000" + "00000000" + "00000000" + "000000000000000000000000", "00800000" + "00000000" + "C633640A"],
            new[] { Hex.Of(first), Hex.Of(second) }.Order().Reverse());
        Assert.Equal(2, server.Counters.Announcements);
    }

    [Fact]
    public async Task Announce_Ipv6Client_PcpAnnounceAloneNatPmpHasNoIpv6()
    {
        using var listener = new Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp);
        listener.Bind(new IPEndPoint(IPAddress.IPv6Loopback, 0));
        await using var server = new PortMappingServer(_authority,
            new PortMappingServerOptions { ListenAddress = IPAddress.IPv6Loopback, Port = 0, AnnouncePort = ((IPEndPoint)listener.LocalEndPoint!).Port });
        await server.StartAsync();
        _authority.EpochSeconds = 0;

        var reached = server.Announce([IPAddress.IPv6Loopback]);

        Assert.Equal(1, reached);
        var (datagram, from) = await ReceiveAsync(listener);
        Assert.Equal(server.LocalEndPoint, from);
        Assert.Equal("02800000" + "00000000" + "00000000" + "000000000000000000000000", Hex.Of(datagram));
        // Both would have been queued on loopback by the time Announce returned: nothing else came.
        Assert.Equal(0, listener.Available);
        Assert.Equal(1, server.Counters.Announcements);
    }

    [Fact]
    public async Task Announce_ClientPolicyRefuses_NatPmpAnnouncementCarriesTheRefusal()
    {
        using var listener = Client();
        await using var server = Server(announcePort: ((IPEndPoint)listener.LocalEndPoint!).Port);
        await server.StartAsync();
        _authority.Enabled = false;

        server.Announce([ClientAddress]);

        var answers = new[] { Hex.Of((await ReceiveAsync(listener)).Bytes), Hex.Of((await ReceiveAsync(listener)).Bytes) };
        Assert.Contains("00800002" + "000004D2" + "00000000", answers);
    }

    [Fact]
    public async Task Announce_BeforeStart_Throws()
    {
        await using var server = Server();

        Assert.Throws<InvalidOperationException>(() => server.Announce([ClientAddress]));
    }

    [Fact]
    public async Task StartAsync_Twice_Throws()
    {
        await using var server = Server();
        await server.StartAsync();

        await Assert.ThrowsAsync<InvalidOperationException>(() => server.StartAsync());
    }

    [Fact]
    public async Task StartAsync_AddressNotConfigured_SocketException()
    {
        await using var server = new PortMappingServer(_authority, new PortMappingServerOptions { ListenAddress = IPAddress.Parse("192.0.2.77"), Port = 0 });

        await Assert.ThrowsAsync<SocketException>(() => server.StartAsync());
    }

    [Fact]
    public async Task DisposeAsync_ReleasesThePortAndIsIdempotent()
    {
        var server = Server();
        await server.StartAsync();
        var endPoint = server.LocalEndPoint!;

        await server.DisposeAsync();
        await server.DisposeAsync();

        using var again = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        again.Bind(endPoint);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => server.StartAsync());
    }
}
