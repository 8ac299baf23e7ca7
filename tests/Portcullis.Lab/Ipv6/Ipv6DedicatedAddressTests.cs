using System.Net;
using Portcullis.Lab.Gateway;
using Portcullis.Lab.Harness;
using Portcullis.Lab.Tunnel;

namespace Portcullis.Lab.Ipv6;

/// <summary>
/// An IPv6 dedicated address end to end (issue 15), NAT66: peer A has <c>dedicated_address6</c> in the gateway's
/// public /64 and the policy forwards every port of dedicated addresses; peer B shares the public IPv6 address. Both
/// are stock wireguard-go clients. The operator's part — the address on the gateway's public interface — is done by
/// the test, as the README tells an operator to. Each host's service answers "NAME from SOURCE". The CLI refuses bad
/// IPv6 assignments with the reason.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class Ipv6DedicatedAddressTests
{
    private const int Tcp = 6;
    private const int Mapped = 8090;
    private const string Nonce = "abcdef0123456789abcdef01";

    // The gateway segment's /64 with host number 0x11: beside the gateway's public IPv6 address.
    private static string Dedicated6(Ipv6Lab lab)
    {
        var bytes = IPAddress.Parse(lab.PublicAddress6).GetAddressBytes();
        bytes[14] = 0;
        bytes[15] = 0x11;
        return new IPAddress(bytes).ToString();
    }

    [Fact]
    public async Task StockClient_DedicatedIpv6_EgressesFromItAndEveryPortReachesIt_OtherPeerStaysShared()
    {
        await using var lab = await Ipv6Lab.StartAsync(routed: false,
            moreOfA: l => $"dedicated_address6 = \"{Dedicated6(l)}\"", forwarding: "forward_all_dedicated_ports = true");
        var dedicated = Dedicated6(lab);
        await lab.Gateway.RunCheckedAsync("ip", "-6", "address", "add", $"{dedicated}/64", "dev", "eth0", "nodad");
        await using var remote = await Ipv6EgressTests.ListenAsync(lab.Remote);
        await using var serviceA = await Ipv6EgressTests.ListenAsync(lab.ClientA);
        await using var serviceB = await Ipv6EgressTests.ListenAsync(lab.ClientB);

        // 1. Egress: the remote host sees A's IPv6 from A's dedicated address, B's from the shared one.
        Assert.Equal($"remote from {dedicated}", await Ipv6EgressTests.AskAsync(lab.ClientA, lab.Remote.Address6!));
        Assert.Equal($"remote from {lab.PublicAddress6}", await Ipv6EgressTests.AskAsync(lab.ClientB, lab.Remote.Address6!));

        // 2. Every port of A's dedicated address reaches A (the remote host seen as itself); B's same service is dark
        //    on the shared address, and A's is not there either.
        Assert.Equal($"clienta from {lab.Remote.Address6}", await Ipv6EgressTests.AskAsync(lab.Remote, dedicated));
        Assert.Null(await Ipv6EgressTests.AskAsync(lab.Remote, lab.PublicAddress6));

        // 3. A PCP MAP from A's IPv6 tunnel address is made on A's dedicated address, and reached there.
        await using var mapped = await Nc6.ListenAsync(lab.ClientA, Mapped);
        var answer = await PcpClient.MapAsync(lab.ClientA, lab.GatewayTunnelAddress6, lab.AddressA6, Tcp, Mapped, 600, Nonce);
        Assert.True(answer.Result == PcpClient.Success, $"{answer}\n{lab.Diagnostics()}");
        Assert.Equal(dedicated, answer.ExternalAddress);
        await Nc6.SendAsync(lab.Remote, dedicated, answer.ExternalPort, "hello-dedicated6", mapped, lab.Diagnostics);
        Assert.False(await Nc6.ConnectsAsync(lab.Remote, lab.PublicAddress6, answer.ExternalPort), "A's mapping answered on the shared address");

        // 4. The CLI refuses a bad IPv6 assignment with the reason: the shared address, an address given twice.
        var shared = await lab.CliAsync("peer", "add", "carol", "--dedicated-address6", lab.PublicAddress6);
        Assert.False(shared.Succeeded, shared.ToString());
        Assert.Contains("is a shared public address", shared.Stderr, StringComparison.Ordinal);
        var twice = await lab.CliAsync("peer", "add", "carol", "--dedicated-address6", dedicated);
        Assert.False(twice.Succeeded, twice.ToString());
        Assert.Contains("belongs to another peer", twice.Stderr, StringComparison.Ordinal);

        var ruleset = await lab.Gateway.RunCheckedAsync("nft", "list", "table", "ip6", "portcullis");
        Assert.Contains($"{lab.AddressA6} : {dedicated}", ruleset, StringComparison.Ordinal);
        Assert.Contains($"{dedicated} : {lab.AddressA6}", ruleset, StringComparison.Ordinal);

        // 5. A's session ends (disabled): every-port DNAT66 goes with it (DESIGN §3.1), the egress route stays.
        var disabled = await lab.CliAsync("peer", "disable", "a");
        Assert.True(disabled.Succeeded, disabled.ToString());
        Assert.True(await Wait.UntilAsync(
            async () => !(await lab.Gateway.RunCheckedAsync("nft", "list", "table", "ip6", "portcullis")).Contains($"{dedicated} : {lab.AddressA6}", StringComparison.Ordinal),
            TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(100)), $"every-port forwarding outlived A's session\n{lab.Diagnostics()}");
        Assert.Null(await Ipv6EgressTests.AskAsync(lab.Remote, dedicated));
        Assert.Contains($"{lab.AddressA6} : {dedicated}", await lab.Gateway.RunCheckedAsync("nft", "list", "table", "ip6", "portcullis"), StringComparison.Ordinal);
    }
}
