using System.Globalization;
using Portcullis.Lab.Gateway;
using Portcullis.Lab.Harness;
using Portcullis.Lab.Tunnel;

namespace Portcullis.Lab.Ipv6;

/// <summary>
/// IPv6 inbound (issue 15): a stock WireGuard client (wireguard-go + wg, ::/0) maps a TCP service on its IPv6 tunnel
/// address with the RFC-built PCP client (Gateway/PcpClient.cs) sent to the gateway's IPv6 tunnel address; a stock
/// <c>nc</c> on the internet reaches that service at the answered address and port — the public IPv6 address and a
/// gateway-chosen port with NAT66, the peer's own /128 and its own port with a routed prefix — while the peer's other
/// ports and other peers stay dark, and a deleted mapping closes again. Services are stock <c>nc -6 -l</c>.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class Ipv6InboundTests
{
    private const int Tcp = 6;
    private const int Mapped = 8080;
    private const int Unmapped = 8081;
    private const string Nonce = "0123456789abcdef01234567"; // a mapping answers only to the nonce that made it

    [Fact]
    public async Task RfcPcpClient_Nat66_RemoteReachesTheIpv6ServiceAtTheAnsweredPublicAddress_OtherPortsAndPeersDark()
    {
        await using var lab = await Ipv6Lab.StartAsync(routed: false);
        await using var service = await Nc6.ListenAsync(lab.ClientA, Mapped);
        await using var otherPort = await Nc6.ListenAsync(lab.ClientA, Unmapped);
        await using var serviceB = await Nc6.ListenAsync(lab.ClientB, Mapped);

        var answer = await PcpClient.MapAsync(lab.ClientA, lab.GatewayTunnelAddress6, lab.AddressA6, Tcp, Mapped, 600, Nonce);

        Assert.True(answer.Result == PcpClient.Success, $"{answer}\n{lab.Diagnostics()}");
        Assert.Equal(lab.GatewayTunnelAddress6, answer.From);
        Assert.Equal(lab.PublicAddress6, answer.ExternalAddress);
        Assert.InRange(answer.ExternalPort, 20000, 59999);
        var ruleset = await lab.Gateway.RunCheckedAsync("nft", "list", "table", "ip6", "portcullis");
        Assert.Contains($"{lab.PublicAddress6} . tcp . {answer.ExternalPort} : {lab.AddressA6} . {Mapped}", ruleset, StringComparison.Ordinal);

        await Nc6.SendAsync(lab.Remote, lab.PublicAddress6, answer.ExternalPort, "hello-from-remote", service, lab.Diagnostics);
        // Hairpin: another peer reaches the mapping at its public address, as with IPv4.
        await Nc6.SendAsync(lab.ClientB, lab.PublicAddress6, answer.ExternalPort, "hello-from-b", service, lab.Diagnostics);

        // Told the way to the ULA prefix, the internet still reaches neither A's other port, nor the mapped port on A's
        // own address (the mapping is on the public address), nor B; B does not reach A's other port either.
        await lab.Network.Router.RunCheckedAsync("ip", "-6", "route", "add", "fd99::/64", "via", lab.PublicAddress6);
        Assert.False(await Nc6.ConnectsAsync(lab.Remote, lab.AddressA6, Unmapped), "remote reached A's unmapped port");
        Assert.False(await Nc6.ConnectsAsync(lab.Remote, lab.AddressA6, Mapped), "remote reached A's address without the DNAT");
        Assert.False(await Nc6.ConnectsAsync(lab.Remote, lab.AddressB6, Mapped), "remote reached B's unmapped service");
        Assert.False(await Nc6.ConnectsAsync(lab.ClientB, lab.AddressA6, Unmapped), "B reached A's unmapped port");

        // Deleted (lifetime 0, the same nonce): the port is dark again.
        var deleted = await PcpClient.MapAsync(lab.ClientA, lab.GatewayTunnelAddress6, lab.AddressA6, Tcp, Mapped, 0, Nonce);
        Assert.Equal(PcpClient.Success, deleted.Result);
        Assert.False(await Nc6.ConnectsAsync(lab.Remote, lab.PublicAddress6, answer.ExternalPort), "remote reached a deleted mapping");
    }

    [Fact]
    public async Task RfcPcpClient_RoutedPrefix_RemoteReachesTheIpv6ServiceOnThePeersOwnAddressAndPort_OtherPortsAndPeersDark()
    {
        await using var lab = await Ipv6Lab.StartAsync(routed: true);
        await using var service = await Nc6.ListenAsync(lab.ClientA, Mapped);
        await using var otherPort = await Nc6.ListenAsync(lab.ClientA, Unmapped);
        await using var serviceB = await Nc6.ListenAsync(lab.ClientB, Mapped);
        // Dark before any mapping: the routed prefix alone lets nothing in.
        Assert.False(await Nc6.ConnectsAsync(lab.Remote, lab.AddressA6, Mapped), "remote reached A before any mapping");

        var answer = await PcpClient.MapAsync(lab.ClientA, lab.GatewayTunnelAddress6, lab.AddressA6, Tcp, Mapped, 600, Nonce);

        Assert.True(answer.Result == PcpClient.Success, $"{answer}\n{lab.Diagnostics()}");
        Assert.Equal(lab.AddressA6, answer.ExternalAddress);
        Assert.Equal(Mapped, answer.ExternalPort);
        var ruleset = await lab.Gateway.RunCheckedAsync("nft", "list", "table", "ip6", "portcullis");
        Assert.Contains($"{lab.AddressA6} . tcp . {Mapped} : {lab.AddressA6} . {Mapped}", ruleset, StringComparison.Ordinal);
        Assert.DoesNotContain("dnat", ruleset, StringComparison.Ordinal);

        await Nc6.SendAsync(lab.Remote, lab.AddressA6, Mapped, "hello-from-remote", service, lab.Diagnostics);
        await Nc6.SendAsync(lab.ClientB, lab.AddressA6, Mapped, "hello-from-b", service, lab.Diagnostics);

        Assert.False(await Nc6.ConnectsAsync(lab.Remote, lab.AddressA6, Unmapped), "remote reached A's unmapped port");
        Assert.False(await Nc6.ConnectsAsync(lab.Remote, lab.AddressB6, Mapped), "remote reached B's unmapped service");
        Assert.False(await Nc6.ConnectsAsync(lab.ClientB, lab.AddressA6, Unmapped), "B reached A's unmapped port");

        var deleted = await PcpClient.MapAsync(lab.ClientA, lab.GatewayTunnelAddress6, lab.AddressA6, Tcp, Mapped, 0, Nonce);
        Assert.Equal(PcpClient.Success, deleted.Result);
        Assert.False(await Nc6.ConnectsAsync(lab.Remote, lab.AddressA6, Mapped), "remote reached a deleted pinhole");
    }
}
