using System.Runtime.Versioning;
using Portcullis.Gateway.Health;
using Portcullis.Gateway.Tests.Kernel.Support;
using Portcullis.Gateway.Tests.Store;
using Portcullis.Linux.Nftables;

namespace Portcullis.Gateway.Tests.Health;

/// <summary>With IPv6 in the tunnel the ip6 table is needed too: without it nothing holds IPv6 inbound back.</summary>
[SupportedOSPlatform("linux")]
public sealed class GatewayReadinessIpv6Tests
{
    private const string Table = "pcready6";

    [Fact]
    public async Task Check_Ipv6AndOnlyTheIpv4Table_TableMissingUntilTheIpv6TableIsThere()
    {
        using var ns = new KernelNamespace("ready6");
        using var fixture = new StoreFixture();
        await using var store = await fixture.OpenAsync();
        ns.Ip("link", "add", "pcr0", "type", "veth", "peer", "name", "pcr1");
        ns.Ip("link", "set", "pcr0", "up");
        ns.ExecChecked("nft", $"add table ip {Table}; add chain ip {Table} prerouting {{ type nat hook prerouting priority dstnat; }}");
        using var readiness = ns.Run(() => new GatewayReadiness("pcr0", new NftContext(), Table, store, storeOutageDegrades: false, ipv6: true));

        Assert.Equal(HealthReport.Failing(HealthReasons.TableMissing), await ns.Run(() => readiness.CheckAsync(CancellationToken.None)));
        ns.ExecChecked("nft", $"add table ip6 {Table}; add chain ip6 {Table} forward {{ type filter hook forward priority filter; }}");
        Assert.Equal(HealthReport.Ok, await ns.Run(() => readiness.CheckAsync(CancellationToken.None)));
    }
}
