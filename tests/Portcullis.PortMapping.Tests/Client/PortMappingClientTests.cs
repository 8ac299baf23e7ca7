using System.Net;
using System.Net.Sockets;
using Portcullis.PortMapping.ClientSide;
using Portcullis.PortMapping.Server;
using Portcullis.PortMapping.Tests.Support;
using Portcullis.Testing;

namespace Portcullis.PortMapping.Tests.ClientSide;

// The client against the real server over loopback, with the policy layer replaced by AuthorityDouble.
public sealed class PortMappingClientTests
{
    private static readonly IPAddress ServerAddress = IPAddress.Parse("127.0.0.31");
    private static readonly byte[] Nonce = [9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2];
    private readonly AuthorityDouble _authority = new();

    private static PortMappingClient ClientFor(PortMappingServer server, TimeSpan? timeout = null) =>
        new(new PortMappingClientOptions
        {
            Gateway = ServerAddress,
            Port = server.LocalEndPoint!.Port,
            InitialTimeout = timeout ?? TimeSpan.FromSeconds(1),
            MaxAttempts = 3,
        });

    private static ClientMapRequest Request(ushort internalPort, uint lifetime, MappingProtocol protocol = MappingProtocol.Tcp) =>
        new(protocol, internalPort, 0, lifetime) { Nonce = Nonce };

    private async Task<PortMappingServer> StartServer(bool pcp = true)
    {
        var server = new PortMappingServer(_authority, new PortMappingServerOptions { ListenAddress = ServerAddress, Port = 0, EnablePcp = pcp });
        await server.StartAsync();
        return server;
    }

    [Fact]
    public async Task MapAsync_PcpServer_GrantedOverPcpWithNonce()
    {
        await using var server = await StartServer();
        using var client = ClientFor(server);

        var answer = await client.MapAsync(Request(8080, 3600), CancellationToken.None);

        Assert.Equal(MappingOutcome.Granted, answer.Outcome);
        Assert.Equal(MappingWire.Pcp, answer.Wire);
        Assert.Equal(40000, answer.ExternalPort);
        Assert.Equal(AuthorityDouble.Public, answer.ExternalAddress);
        Assert.Equal(_authority.EpochSeconds, answer.Epoch);
        var call = Assert.Single(_authority.MapCalls);
        Assert.Equal(Nonce, call.Nonce!.Value.ToArray());
        Assert.Equal(8080, call.InternalPort);
    }

    [Fact]
    public async Task MapAsync_NatPmpOnlyServer_FallsBackAndStaysOnNatPmp()
    {
        await using var server = await StartServer(pcp: false);
        using var client = ClientFor(server);

        var first = await client.MapAsync(Request(8080, 3600), CancellationToken.None);
        var second = await client.MapAsync(Request(8080, 3600), CancellationToken.None);

        Assert.Equal(MappingOutcome.Granted, first.Outcome);
        Assert.Equal(MappingWire.NatPmp, first.Wire);
        Assert.Equal(MappingWire.NatPmp, client.Wire);
        Assert.Equal(first.ExternalPort, second.ExternalPort);
        Assert.All(_authority.MapCalls, c => Assert.Null(c.Nonce));
        Assert.Equal(2, _authority.MapCalls.Count);
    }

    [Fact]
    public async Task MapAsync_InternalPortZero_NatPmpSamePortRequest()
    {
        await using var server = await StartServer();
        using var client = ClientFor(server);

        var answer = await client.MapAsync(Request(0, 60, MappingProtocol.Udp), CancellationToken.None);

        Assert.Equal(MappingOutcome.Granted, answer.Outcome);
        Assert.Equal(MappingWire.NatPmp, answer.Wire);
        Assert.Equal(0, Assert.Single(_authority.MapCalls).InternalPort);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task EpochAsync_PcpOrNatPmpServer_ServersEpoch(bool pcp)
    {
        _authority.EpochSeconds = 777;
        await using var server = await StartServer(pcp);
        using var client = ClientFor(server);

        Assert.Equal(777u, await client.EpochAsync(CancellationToken.None));
        Assert.Equal(pcp ? MappingWire.Pcp : MappingWire.NatPmp, client.Wire);
        Assert.Empty(_authority.MapCalls);
    }

    [Fact]
    public async Task MapAsync_LifetimeZero_DeletesTheMapping()
    {
        await using var server = await StartServer();
        using var client = ClientFor(server);
        await client.MapAsync(Request(8080, 3600), CancellationToken.None);
        Assert.Equal(1, _authority.Count);

        var answer = await client.MapAsync(Request(8080, 0), CancellationToken.None);

        Assert.Equal(MappingOutcome.Granted, answer.Outcome);
        Assert.Equal(0, _authority.Count);
    }

    [Fact]
    public async Task MapAsync_Refused_CarriesPcpResult()
    {
        _authority.Enabled = false;
        await using var server = await StartServer();
        using var client = ClientFor(server);

        var answer = await client.MapAsync(Request(8080, 3600), CancellationToken.None);

        Assert.Equal(MappingOutcome.Refused, answer.Outcome);
        Assert.Equal((int)Portcullis.PortMapping.Pcp.PcpResultCode.NotAuthorized, answer.ResultCode);
    }

    [Fact]
    public async Task MapAsync_NobodyListening_NoAnswerAfterRetransmissions()
    {
        // A bound, silent socket stands in for a gateway that does not answer; it counts what arrives.
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        silent.Bind(new IPEndPoint(ServerAddress, 0));
        using var client = new PortMappingClient(new PortMappingClientOptions
        {
            Gateway = ServerAddress,
            Port = ((IPEndPoint)silent.LocalEndPoint!).Port,
            InitialTimeout = TimeSpan.FromMilliseconds(50),
            MaxAttempts = 3,
        });

        var answer = await client.MapAsync(Request(8080, 3600), CancellationToken.None);

        Assert.Equal(MappingOutcome.NoAnswer, answer.Outcome);
        var buffer = new byte[100];
        var sent = 0;
        while (silent.Poll(0, SelectMode.SelectRead) && silent.Receive(buffer) == 60)
            sent++;
        Assert.Equal(3, sent);
    }
}
