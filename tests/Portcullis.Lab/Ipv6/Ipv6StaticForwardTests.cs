using System.Text.Json;
using Portcullis.Lab.Harness;
using Portcullis.Lab.Tunnel;

namespace Portcullis.Lab.Ipv6;

/// <summary>
/// IPv6 static forwards: declared in the gateway's config (<c>[[peer.forward]] public_address</c> = the gateway's public
/// IPv6 address, NAT66), or added by the stock-CLI-driven admin API (<c>portcullis forward add … --public-address</c>),
/// they make a stock client's IPv6 service (wireguard-go + wg, <c>nc -6 -l</c> in its namespace) reachable from the
/// remote host by stock <c>nc</c> at the public IPv6 address and port, while another port stays dark. With a routed
/// prefix the forward is the peer's own /128 at its own port.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class Ipv6StaticForwardTests
{
    private const int External = 30000;
    private const int OtherExternal = 30001;
    private const int Internal = 8080;
    private const int Unforwarded = 8081;
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task ConfigForward_Nat66_RemoteReachesTheIpv6ServiceAtThePublicIpv6AddressAndPort_OtherPortDark()
    {
        await using var lab = await Ipv6Lab.StartAsync(routed: false, moreOfA: lab => $"""

            [[peer.forward]]
            protocol       = "tcp"
            external_port  = {External}
            internal_port  = {Internal}
            public_address = "{lab.PublicAddress6}"
            """);
        await using var service = await Nc6.ListenAsync(lab.ClientA, Internal);
        await using var otherService = await Nc6.ListenAsync(lab.ClientA, Unforwarded);

        await WaitForElementAsync(lab, lab.PublicAddress6, External);
        await Nc6.SendAsync(lab.Remote, lab.PublicAddress6, External, "hello-static-v6", service, lab.Diagnostics);

        Assert.False(await Nc6.ConnectsAsync(lab.Remote, lab.PublicAddress6, OtherExternal), "remote reached a port nothing forwards");
        Assert.False(await Nc6.ConnectsAsync(lab.Remote, lab.PublicAddress6, Unforwarded), "remote reached A's unforwarded service port");
        Assert.DoesNotContain("hello", otherService.Output, StringComparison.Ordinal);
        var listed = await ForwardsAsync(lab);
        var forward = Assert.Single(listed.EnumerateArray());
        Assert.Equal((lab.PublicAddress6, External, true),
            (forward.GetProperty("public_address").GetString(), forward.GetProperty("external_port").GetInt32(), forward.GetProperty("live").GetBoolean()));
    }

    [Fact]
    public async Task ConfigForward_RoutedPrefix_RemoteReachesTheServiceOnThePeersOwnAddressAndPort_OtherPortDark()
    {
        await using var lab = await Ipv6Lab.StartAsync(routed: true, moreOfA: lab => $"""
            address    = "{Ipv6Lab.AddressA}"

            [[peer.forward]]
            protocol       = "tcp"
            external_port  = {Internal}
            public_address = "{lab.AddressA6}"
            """);
        await using var service = await Nc6.ListenAsync(lab.ClientA, Internal);
        await using var otherService = await Nc6.ListenAsync(lab.ClientA, Unforwarded);

        await WaitForElementAsync(lab, lab.AddressA6, Internal);
        await Nc6.SendAsync(lab.Remote, lab.AddressA6, Internal, "hello-routed-v6", service, lab.Diagnostics);

        Assert.False(await Nc6.ConnectsAsync(lab.Remote, lab.AddressA6, Unforwarded), "remote reached A's unforwarded service port");
        Assert.DoesNotContain("hello", otherService.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CliForwardAdd_Nat66_RemoteReachesTheIpv6Service_ForeignIpv6AddressRefusedWithReason()
    {
        await using var lab = await Ipv6Lab.StartAsync(routed: false);
        await using var service = await Nc6.ListenAsync(lab.ClientA, Internal);
        Assert.False(await Nc6.ConnectsAsync(lab.Remote, lab.PublicAddress6, External), "remote reached A before any forward");

        var refused = await lab.CliAsync("forward", "add", "a", "tcp", $"{External}", $"{Internal}", "--public-address", "2001:db8:1::99");
        Assert.False(refused.Succeeded, refused.ToString());
        Assert.Contains("not one of this gateway's public IPv6 addresses", refused.Stderr, StringComparison.Ordinal);

        var added = await lab.CliAsync("forward", "add", "a", "tcp", $"{External}", $"{Internal}", "--public-address", lab.PublicAddress6);
        Assert.True(added.Succeeded, $"{added}\n{lab.Diagnostics()}");

        await WaitForElementAsync(lab, lab.PublicAddress6, External);
        await Nc6.SendAsync(lab.Remote, lab.PublicAddress6, External, "hello-cli-v6", service, lab.Diagnostics);
        Assert.False(await Nc6.ConnectsAsync(lab.Remote, lab.PublicAddress6, OtherExternal), "remote reached a port nothing forwards");

        var removed = await lab.CliAsync("forward", "remove", lab.PublicAddress6, "tcp", $"{External}");
        Assert.True(removed.Succeeded, removed.ToString());
        Assert.False(await Nc6.ConnectsAsync(lab.Remote, lab.PublicAddress6, External), "remote reached a removed forward");
    }

    // The event: the forward's element in the gateway's ip6 table (it goes live once A's session is seen).
    private static async Task WaitForElementAsync(Ipv6Lab lab, string publicAddress, int external)
    {
        var element = $"{publicAddress} . tcp . {external} : {lab.AddressA6} . {Internal}";
        Assert.True(await Wait.UntilAsync(
                async () => (await lab.Gateway.RunAsync("nft", "list", "table", "ip6", "portcullis")).Stdout.Contains(element, StringComparison.Ordinal),
                Generous, TimeSpan.FromMilliseconds(100)),
            $"{element} never in the ip6 table\n{lab.Diagnostics()}");
    }

    private static async Task<JsonElement> ForwardsAsync(Ipv6Lab lab)
    {
        var result = await lab.CliAsync("forward", "list", "--json");
        Assert.True(result.Succeeded, result.ToString());
        using var document = JsonDocument.Parse(result.Stdout);
        return document.RootElement.Clone();
    }
}
