using System.Globalization;
using Portcullis.Lab.Harness;
using Portcullis.Lab.Tunnel;
using static Portcullis.Lab.Gateway.GatewayLab;

namespace Portcullis.Lab.Gateway;

/// <summary>
/// One listen port, one public port: a client that maps one internal port for TCP and for UDP gets one public port
/// for both, from stock natpmpc, a PCP client and a real BitTorrent engine; another peer never gets either half.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class PortPairTests
{
    private const int Tcp = 6;
    private const int Udp = 17;

    [Fact]
    public async Task NatPmp_TcpThenUdpWithoutSuggestion_OnePublicPortReachedOverBoth_OtherPeerGetsNeitherHalf()
    {
        // Suggestions honoured, so B's asking for A's port is a real attempt, not one the policy ignores anyway.
        await using var lab = await GatewayLab.StartAsync(new GatewayLabOptions { ExtraForwarding = "allow_suggested_port = true" });
        await Probes.ListenAsync(lab.ClientA, "tcp", 6881);
        await Probes.ListenAsync(lab.ClientA, "udp", 6881);

        var tcp = await NatPmpClient.MapCheckedAsync(lab.ClientA, "tcp", 6881);
        var udp = await NatPmpClient.MapCheckedAsync(lab.ClientA, "udp", 6881);

        Assert.Equal(tcp, udp);
        var ruleset = await lab.RulesetAsync();
        Assert.Equal(2, CountOccurrences(ruleset, Element(tcp, AddressA, 6881)));
        Assert.Equal("clienta from 192.0.2.100", await Probes.AskAsync(lab.Remote, "tcp", PublicAddress, tcp));
        Assert.Equal("clienta from 192.0.2.100 ping", await Probes.AskAsync(lab.Remote, "udp", PublicAddress, udp));

        var otherTcp = await NatPmpClient.MapAsync(lab.ClientB, "tcp", tcp, 6881, 600);
        var otherUdp = await NatPmpClient.MapAsync(lab.ClientB, "udp", tcp, 6881, 600);
        Assert.True(otherTcp.Mapped && otherUdp.Mapped, $"{otherTcp}\n{otherUdp}");
        Assert.NotEqual(tcp, otherTcp.PublicPort);
        Assert.Equal(otherTcp.PublicPort, otherUdp.PublicPort);
        Assert.Equal("clienta from 192.0.2.100 ping", await Probes.AskAsync(lab.Remote, "udp", PublicAddress, udp));
    }

    [Fact]
    public async Task Pcp_UdpThenTcpWithoutSuggestion_OnePublicPort()
    {
        await using var lab = await GatewayLab.StartAsync();

        // Each request is a new PCP client with its own nonce, suggesting no port, as RFC 6887 allows.
        var udp = await PcpClient.MapAsync(lab.ClientA, AddressA, Udp, 6881, 600);
        var tcp = await PcpClient.MapAsync(lab.ClientA, AddressA, Tcp, 6881, 600);
        var other = await PcpClient.MapAsync(lab.ClientB, AddressB, Tcp, 6881, 600);

        Assert.Equal((PcpClient.Success, PcpClient.Success, PcpClient.Success), (udp.Result, tcp.Result, other.Result));
        Assert.Equal(udp.ExternalPort, tcp.ExternalPort);
        Assert.NotEqual(udp.ExternalPort, other.ExternalPort);
        Assert.Equal(2, CountOccurrences(await lab.RulesetAsync(), Element(tcp.ExternalPort, AddressA, 6881)));
    }

    [Fact]
    public async Task Libtorrent_MapsItsListenPort_OnePublicPortAndTheRemoteReachesItOverTcpAndUtp()
    {
        await using var lab = await GatewayLab.StartAsync();
        // libtorrent looks for its PCP/NAT-PMP server on a default route with a gateway address (as a wg-quick PostUp
        // line gives it); the stock full tunnel's route has none, so the route names the gateway's tunnel address.
        await lab.ClientA.RunCheckedAsync("ip", "route", "replace", "0.0.0.0/0", "via", GatewayTunnelAddress, "dev",
            lab.TunnelA.Interface, "table", StockClient.FwMark.ToString(CultureInfo.InvariantCulture));
        var engine = LibtorrentEngine.Start(lab.ClientA, 6881);

        var tcp = await engine.MappedPortAsync("tcp", TimeSpan.FromSeconds(30));
        var udp = await engine.MappedPortAsync("udp", TimeSpan.FromSeconds(30));

        Assert.Equal(tcp, udp);
        Assert.Equal(2, CountOccurrences(await lab.RulesetAsync(), Element(tcp, AddressA, 6881)));
        await engine.WaitActiveAsync(TimeSpan.FromSeconds(10));
        var overTcp = await RemotePeer.TcpHandshakeAsync(lab.Remote, PublicAddress, tcp, engine.InfoHash);
        Assert.True(overTcp == "handshake", $"TCP: {overTcp}\n{engine.Process}");
        var overUdp = await RemotePeer.UtpHandshakeAsync(lab.Remote, PublicAddress, udp);
        Assert.True(overUdp == "st_state", $"uTP: {overUdp}\n{engine.Process}");
    }

    private static int CountOccurrences(string text, string value)
    {
        var count = 0;
        for (var at = text.IndexOf(value, StringComparison.Ordinal); at >= 0; at = text.IndexOf(value, at + value.Length, StringComparison.Ordinal))
            count++;
        return count;
    }
}
