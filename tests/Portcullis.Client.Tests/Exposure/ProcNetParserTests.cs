using System.Net;
using Portcullis.Client.Exposure;

namespace Portcullis.Client.Tests.Exposure;

public sealed class ProcNetParserTests
{
    // Captured from a little-endian machine (the kernel prints each 32-bit word in host order).
    private const string Tcp = """
          sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
           0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 31337 1 0000000000000000 100 0 0 10 0
           1: 0100007F:0277 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 31338 1 0000000000000000 100 0 0 10 0
           2: 0200630A:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 31339 1 0000000000000000 100 0 0 10 0
           3: 1571CBCB:1F90 6471CBCB:D431 01 00000000:00000000 00:00000000 00000000     0        0 31340 1 0000000000000000 20 4 30 10 -1
        garbage line
        """;

    private const string Tcp6 = """
          sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
           0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0
           1: 0000000000000000FFFF00000200630A:1F92 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4243 1 0000000000000000 100 0 0 10 0
           2: B80D0120000000000000000001000000:1F93 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4244 1 0000000000000000 100 0 0 10 0
        """;

    private const string Udp = """
           sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
          120: 00000000:1AE1 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 5555 2 0000000000000000 0
        """;

    [Fact]
    public void Parse_Tcp_ListeningSocketsOnlyWithAddressAndPort()
    {
        if (!BitConverter.IsLittleEndian)
            return;
        var listeners = ProcNetParser.Parse(Tcp, ListenerProtocol.Tcp);
        Assert.Equal(
        [
            new Listener(ListenerProtocol.Tcp, IPAddress.Any, 8080),
            new Listener(ListenerProtocol.Tcp, IPAddress.Loopback, 631),
            new Listener(ListenerProtocol.Tcp, IPAddress.Parse("10.99.0.2"), 8081),
        ], listeners);
    }

    [Fact]
    public void Parse_Tcp6_WildcardMappedAndGlobal()
    {
        if (!BitConverter.IsLittleEndian)
            return;
        var listeners = ProcNetParser.Parse(Tcp6, ListenerProtocol.Tcp);
        Assert.Equal(
        [
            new Listener(ListenerProtocol.Tcp, IPAddress.IPv6Any, 8080),
            new Listener(ListenerProtocol.Tcp, IPAddress.Parse("::ffff:10.99.0.2"), 8082),
            new Listener(ListenerProtocol.Tcp, IPAddress.Parse("2001:db8::1"), 8083),
        ], listeners);
    }

    [Fact]
    public void Parse_Udp_UnconnectedSocketCounts()
    {
        var listener = Assert.Single(ProcNetParser.Parse(Udp, ListenerProtocol.Udp));
        Assert.Equal(6881, listener.Port);
        Assert.Equal(IPAddress.Any, listener.Address);
    }

    [Fact]
    public void Parse_Garbage_Nothing()
    {
        Assert.Empty(ProcNetParser.Parse("nonsense\n 0: zz:zz 00 0A\n 1: 0100007F:XYZ 0 0A", ListenerProtocol.Tcp));
    }

    [Fact]
    public void ReadSystem_OurOwnListener_IsFound()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        Assert.Contains(new Listener(ListenerProtocol.Tcp, IPAddress.Loopback, (ushort)port), ProcNetParser.ReadSystem());
    }
}
