using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Portcullis.PortMapping.Server;
using Portcullis.PortMapping.Tests.Support;
using Portcullis.Testing;

namespace Portcullis.PortMapping.Tests.Server;

// The policy layer batches concurrent requests into one kernel transaction, so the server must hand requests from
// different clients over at once — and a client's own one at a time, in the order they came.
public sealed class ServerConcurrencyTests
{
    private static readonly IPAddress ServerAddress = IPAddress.Parse("127.0.0.21");
    private static readonly IPAddress ClientA = IPAddress.Parse("127.0.0.22");
    private static readonly IPAddress ClientB = IPAddress.Parse("127.0.0.23");
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private readonly AuthorityDouble _authority = new() { Quota = 100 };

    private static Socket Client(IPAddress address)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(address, 0));
        return socket;
    }

    private static byte[] MapTcp(ushort internalPort)
    {
        var request = new byte[12];
        request[1] = 2;
        BinaryPrimitives.WriteUInt16BigEndian(request.AsSpan(4), internalPort);
        BinaryPrimitives.WriteUInt32BigEndian(request.AsSpan(8), 3600);
        return request;
    }

    private static async Task<ushort> ReceiveInternalPortAsync(Socket socket)
    {
        var buffer = new byte[64];
        using var timeout = new CancellationTokenSource(Patience * 2);
        var n = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
        Assert.Equal(16, n);
        return BinaryPrimitives.ReadUInt16BigEndian(buffer.AsSpan(8));
    }

    [Fact]
    public async Task Map_OneClientsRequestInHand_AnotherClientsRequestReachesTheAuthorityMeanwhile()
    {
        using var bEntered = new ManualResetEventSlim();
        var aSawB = false;
        _authority.BeforeMap = request =>
        {
            if (request.Client.Equals(ClientA))
                aSawB = bEntered.Wait(Patience); // served one at a time, B would come only after A gave up
            else
                bEntered.Set();
        };
        await using var server = new PortMappingServer(_authority, new PortMappingServerOptions { ListenAddress = ServerAddress, Port = 0 });
        await server.StartAsync();
        using var a = Client(ClientA);
        using var b = Client(ClientB);

        await a.SendToAsync(MapTcp(1000), server.LocalEndPoint!);
        Assert.True(SpinWait.SpinUntil(() => _authority.MapCalls.Count == 0 && server.Counters.Received == 1, Patience));
        await b.SendToAsync(MapTcp(2000), server.LocalEndPoint!);

        Assert.Equal(2000, await ReceiveInternalPortAsync(b));
        Assert.Equal(1000, await ReceiveInternalPortAsync(a));
        Assert.True(aSawB);
    }

    [Fact]
    public async Task Map_OneClientsBurst_HandledOneAtATimeInOrder()
    {
        var inside = 0;
        var overlapped = false;
        _authority.BeforeMap = request =>
        {
            if (Interlocked.Increment(ref inside) > 1)
                overlapped = true;
            for (var i = 0; i < 100; i++)
                Thread.Yield(); // give a second worker, were there one on this client, the time to overlap
            Interlocked.Decrement(ref inside);
        };
        await using var server = new PortMappingServer(_authority, new PortMappingServerOptions { ListenAddress = ServerAddress, Port = 0 });
        await server.StartAsync();
        using var a = Client(ClientA);

        const int Burst = RequestWorkers.MaxBacklogPerClient;
        for (var i = 0; i < Burst; i++)
            await a.SendToAsync(MapTcp((ushort)(1000 + i)), server.LocalEndPoint!);
        var answered = new List<ushort>();
        for (var i = 0; i < Burst; i++)
            answered.Add(await ReceiveInternalPortAsync(a));

        var expected = Enumerable.Range(1000, Burst).Select(p => (ushort)p).ToList();
        Assert.Equal(expected, answered);
        Assert.Equal(expected, _authority.MapCalls.Select(c => c.InternalPort));
        Assert.False(overlapped);
    }
}
