using System.Net;
using System.Net.Sockets;
using Portcullis.PortMapping.Server;
using Portcullis.PortMapping.Tests.Support;
using Portcullis.Testing;

namespace Portcullis.PortMapping.Tests.Server;

// Truncated, oversized and wrong-version datagrams from a client across the (veth) tunnel: each gets the answer
// the RFCs give it, or none, and natpmpc is served normally afterwards. Needs root and natpmpc.
public sealed class BadInputOverTheTunnelTests
{
    private static readonly IPEndPoint Server = new(IPAddress.Parse(TunnelLab.GatewayAddress), 5351);
    private const string PcpClient = "00000000 00000000 0000FFFF 0A630002";

    public static TheoryData<string, string, string, int> Cases => new()
    {
        // name, request (hex, or "zeros:N" for N zero bytes after a PCP MAP header), expected answer prefix ("" = none), expected length
        { "truncated NAT-PMP map", "00 02 0000 1F90 0000 00000E", "", 0 },
        { "NAT-PMP response", "00 82 0000 00000000 1F90 9C40 00000E10", "", 0 },
        { "truncated PCP", "02 01 0000 00000E10", "", 0 },
        { "wrong version 1", "01 01", "02810001", 24 },
        { "wrong version 7", "07 00 0000 00000000", "02800001", 24 },
        { "unknown NAT-PMP opcode", "00 09", "00890005", 8 },
        { "unaligned PCP", "02 00 0000 00000000" + PcpClient + "AA", "02800003", 28 },
        { "oversized PCP", "zeros:1200", "02810003", 60 },
        { "PCP PEER, remote port 0", "02 02 0000 00000E10" + PcpClient + "0102030405060708090A0B0C 06000000 1F900000 " + PcpClient + " 00000000 00000000 00000000 0000FFFF C0000264", "02820003", 80 },
        { "PCP from a spoofed client field", "02 00 0000 00000000 00000000 00000000 0000FFFF 0A630063", "0280000C", 24 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task BadDatagram_RightAnswerOrNoneAndServerKeepsServing(string name, string request, string expectedPrefix, int expectedLength)
    {
        var authority = new AuthorityDouble();
        using var lab = new TunnelLab();
        await using var server = new PortMappingServer(authority, new PortMappingServerOptions { ListenAddress = Server.Address });
        lab.InGateway(() => server.StartAsync().GetAwaiter().GetResult());
        using var client = lab.ClientSocket();

        var datagram = request.StartsWith("zeros:", StringComparison.Ordinal)
            ? [.. Hex.Bytes("02 01 0000 00000E10" + PcpClient), .. new byte[int.Parse(request[6..]) - 24]]
            : Hex.Bytes(request);
        await client.SendToAsync(datagram, Server);
        var answer = await TryReceiveAsync(client, TimeSpan.FromMilliseconds(expectedLength == 0 ? 500 : 5000));

        if (expectedLength == 0)
        {
            Assert.True(answer is null, $"{name}: expected no answer");
        }
        else
        {
            Assert.NotNull(answer);
            Assert.Equal(expectedLength, answer.Length);
            Assert.StartsWith(expectedPrefix, Hex.Of(answer), StringComparison.Ordinal);
        }
        var (exitCode, output) = lab.Natpmpc("-a", "0", "8080", "tcp", "60");
        Assert.True(exitCode == 0, output);
        Assert.Equal(1, server.Counters.Malformed);
    }

    private static async Task<byte[]?> TryReceiveAsync(Socket socket, TimeSpan patience)
    {
        var buffer = new byte[2048];
        using var timeout = new CancellationTokenSource(patience);
        try
        {
            var result = await socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), timeout.Token);
            return buffer[..result.ReceivedBytes];
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }
}
