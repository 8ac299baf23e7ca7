using System.Globalization;
using Portcullis.Lab.Harness;
using Portcullis.Lab.Tunnel;
using static Portcullis.Lab.Gateway.GatewayLab;

namespace Portcullis.Lab.Gateway;

/// <summary>
/// Port forwarding end to end: stock clients ask with natpmpc over the tunnel, the remote host connects to the
/// gateway's public address, and the client's own listener answers, seeing the remote's real address.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class PortForwardingTests
{
    [Fact]
    public async Task NatPmp_MapTcpAndUdp_RemoteReachesClientAndClientSeesRemoteAddress()
    {
        await using var lab = await GatewayLab.StartAsync();
        await Probes.ListenAsync(lab.ClientA, "tcp", 8080);
        await Probes.ListenAsync(lab.ClientA, "udp", 8081);

        var tcpPort = await NatPmpClient.MapCheckedAsync(lab.ClientA, "tcp", 8080);
        var udpPort = await NatPmpClient.MapCheckedAsync(lab.ClientA, "udp", 8081);

        // `wg show` works on the gateway: one peer per [[peer]], allowed-ips its /32 (A's allocated, B's configured).
        var peers = await WgTools.ShowPeersAsync(lab.Gateway, lab.GatewayInterface);
        Assert.Equal([$"{AddressA}/32", $"{AddressB}/32"], peers.Select(p => p.AllowedIps).Order(StringComparer.Ordinal));
        Assert.InRange(tcpPort, 20000, 59999);
        Assert.InRange(udpPort, 20000, 59999);
        var ruleset = await lab.RulesetAsync();
        Assert.Contains(Element(tcpPort, AddressA, 8080), ruleset, StringComparison.Ordinal);
        Assert.Contains(Element(udpPort, AddressA, 8081), ruleset, StringComparison.Ordinal);
        Assert.Equal("clienta from 192.0.2.100", await Probes.AskAsync(lab.Remote, "tcp", PublicAddress, tcpPort));
        Assert.Equal("clienta from 192.0.2.100 ping", await Probes.AskAsync(lab.Remote, "udp", PublicAddress, udpPort));

        // Hairpin: another client reaches A's forward on the public address, through the tunnel.
        Assert.StartsWith("clienta from ", await Probes.AskAsync(lab.ClientB, "tcp", PublicAddress, tcpPort), StringComparison.Ordinal);

        // Privacy by default (DESIGN invariant 8): nothing the gateway logged names a public port.
        Assert.DoesNotContain(tcpPort.ToString(CultureInfo.InvariantCulture), lab.GatewayProcess.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(udpPort.ToString(CultureInfo.InvariantCulture), lab.GatewayProcess.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NatPmp_DesignCommandInternalPortZero_MapsThePublicPortToTheSamePortOnTheClient()
    {
        // DESIGN §6, verbatim: `natpmpc -g 10.99.0.1 -a 0 0 tcp 60` — "a port, forwarded to the same port on me".
        await using var lab = await GatewayLab.StartAsync();

        var outcome = await NatPmpClient.MapAsync(lab.ClientA, "tcp", 0, 0, 60);

        Assert.True(outcome.Mapped, outcome.ToString());
        var port = outcome.PublicPort!.Value;
        // The answer echoes the requested internal port (0, RFC 6886); the kernel element shows the mirror.
        Assert.Contains(Element(port, AddressA, port), await lab.RulesetAsync(), StringComparison.Ordinal);
        await Probes.ListenAsync(lab.ClientA, "tcp", port);
        Assert.Equal("clienta from 192.0.2.100", await Probes.AskAsync(lab.Remote, "tcp", PublicAddress, port));
        // Asking again refreshes the same mapping rather than taking another port.
        Assert.Equal(port, (await NatPmpClient.MapAsync(lab.ClientA, "tcp", 0, 0, 60)).PublicPort);
    }

    [Fact]
    public async Task UnmappedPorts_FromRemote_StayDarkForTcpUdpAndDirectRouting()
    {
        await using var lab = await GatewayLab.StartAsync();
        await Probes.ListenAsync(lab.ClientA, "tcp", 8080);
        await Probes.ListenAsync(lab.ClientA, "udp", 8080);
        var mapped = await NatPmpClient.MapCheckedAsync(lab.ClientA, "tcp", 8080);
        var unmapped = mapped == 59999 ? 20000 : mapped + 1;

        Assert.Null(await Probes.AskAsync(lab.Remote, "tcp", PublicAddress, unmapped));
        Assert.Null(await Probes.AskAsync(lab.Remote, "udp", PublicAddress, unmapped));
        Assert.Null(await Probes.AskAsync(lab.Remote, "tcp", PublicAddress, 8080));
        Assert.Null(await Probes.AskAsync(lab.Remote, "udp", PublicAddress, 8080));

        // Someone on the gateway's segment routing straight at a tunnel address: the router plays that someone.
        await lab.Network.Router.RunCheckedAsync("ip", "route", "add", "10.99.0.0/16", "via", PublicAddress);
        Assert.Null(await Probes.AskAsync(lab.Remote, "tcp", AddressA, 8080));
        Assert.Null(await Probes.AskAsync(lab.Remote, "udp", AddressA, 8080));

        // Clients are isolated from each other inside the tunnel (allow_peer_to_peer defaults to false).
        Assert.False(await lab.ClientB.PingAsync(AddressA), "B reached A's tunnel address");
        Assert.Null(await Probes.AskAsync(lab.ClientB, "tcp", AddressA, 8080));

        // The mapped port still works: the darkness above is policy, not a broken lab.
        Assert.Equal("clienta from 192.0.2.100", await Probes.AskAsync(lab.Remote, "tcp", PublicAddress, mapped));
    }

    [Fact]
    public async Task TwoClients_SameInternalPort_NeverShareAPublicPortAndBCannotDeleteAs()
    {
        await using var lab = await GatewayLab.StartAsync();
        await Probes.ListenAsync(lab.ClientA, "tcp", 8080);
        await Probes.ListenAsync(lab.ClientB, "tcp", 8080);

        var portA = await NatPmpClient.MapCheckedAsync(lab.ClientA, "tcp", 8080);
        // B suggests A's port: the gateway chooses, and never A's.
        var suggested = await NatPmpClient.MapAsync(lab.ClientB, "tcp", portA, 8080, 600);
        Assert.True(suggested.Mapped, suggested.ToString());
        var portB = suggested.PublicPort!.Value;
        Assert.NotEqual(portA, portB);

        // B deletes "A's port" (NAT-PMP deletes by the sender's own internal port; the suggestion is ignored).
        var delete = await NatPmpClient.MapAsync(lab.ClientB, "tcp", portA, 8080, 0);
        Assert.True(delete.Result.Succeeded, delete.ToString());
        // …and deletes everything it has for TCP (internal port 0, lifetime 0).
        await NatPmpClient.MapAsync(lab.ClientB, "tcp", 0, 0, 0);

        var ruleset = await lab.RulesetAsync();
        Assert.Contains(Element(portA, AddressA, 8080), ruleset, StringComparison.Ordinal);
        Assert.DoesNotContain($": {AddressB} .", ruleset, StringComparison.Ordinal);
        Assert.Equal("clienta from 192.0.2.100", await Probes.AskAsync(lab.Remote, "tcp", PublicAddress, portA));
        Assert.Null(await Probes.AskAsync(lab.Remote, "tcp", PublicAddress, portB));
    }

    [Fact]
    public async Task Refresh_SameRequestAgain_ReturnsTheSamePort()
    {
        await using var lab = await GatewayLab.StartAsync();

        var first = await NatPmpClient.MapCheckedAsync(lab.ClientA, "udp", 6881);
        var again = await NatPmpClient.MapCheckedAsync(lab.ClientA, "udp", 6881);

        Assert.Equal(first, again);
    }
}
