using System.Reflection;
using System.Runtime.Versioning;
using Portcullis.Gateway.Health;
using Portcullis.Gateway.Store;
using Portcullis.Gateway.Tests.Kernel.Support;
using Portcullis.Gateway.Tests.Store;
using Portcullis.Linux.Nftables;

namespace Portcullis.Gateway.Tests.Health;

/// <summary>
/// The readiness checks against a real kernel (a namespace of their own) and a real SQLite store: each thing the
/// gateway needs is taken away in turn, and the report names it. With IPv6 in the tunnel the ip6 table is needed too:
/// without it nothing holds IPv6 inbound back.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class GatewayReadinessTests
{
    private const string Table = "pcready";

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Check_DeviceTablesAndStore_ReportsTheFirstMissingThing(bool ipv6)
    {
        using var ns = new TestNamespace("pcgk-ready");
        using var fixture = new StoreFixture();
        await using var store = await fixture.OpenAsync();
        ns.Ip("link", "add", "pcr0", "type", "veth", "peer", "name", "pcr1");
        using var readiness = ns.Run(() => new GatewayReadiness("pcr0", new NftContext(), Table, store, storeOutageDegrades: false, ipv6));
        Task<HealthReport> Check() => ns.Run(() => readiness.CheckAsync(CancellationToken.None));

        // The interface exists but is down; then missing altogether.
        Assert.Equal(HealthReport.Failing(HealthReasons.DeviceDown), await Check());
        ns.Ip("link", "set", "pcr0", "up");
        Assert.Equal(HealthReport.Failing(HealthReasons.TableMissing), await Check());

        AddTable(ns, "ip");
        if (ipv6)
        {
            // The IPv4 table alone is not enough when the tunnel carries IPv6.
            Assert.Equal(HealthReport.Failing(HealthReasons.TableMissing), await Check());
            AddTable(ns, "ip6");
        }
        Assert.Equal(HealthReport.Ok, await Check());

        foreach (var family in ipv6 ? new[] { "ip", "ip6" } : ["ip"])
        {
            ns.Exec("nft", "delete", "table", family, Table);
            Assert.Equal(HealthReport.Failing(HealthReasons.TableMissing), await Check());
            AddTable(ns, family);
            Assert.Equal(HealthReport.Ok, await Check());
        }
        ns.Ip("link", "del", "pcr0");
        Assert.Equal(HealthReport.Failing(HealthReasons.DeviceDown), await Check());
    }

    // What the checks look for: the ip table's prerouting chain, the ip6 table's forward chain.
    private static void AddTable(TestNamespace ns, string family) => ns.Exec("nft", family == "ip"
        ? $"add table ip {Table}; add chain ip {Table} prerouting {{ type nat hook prerouting priority dstnat; }}"
        : $"add table ip6 {Table}; add chain ip6 {Table} forward {{ type filter hook forward priority filter; }}");

    [Theory]
    [InlineData(false, HealthState.Failing)]
    [InlineData(true, HealthState.Degraded)]
    public async Task Check_StoreFails_FailingForItsOwnStoreDegradedForAFleets(bool storeOutageDegrades, HealthState expected)
    {
        using var ns = new TestNamespace("pcgk-ready");
        ns.Ip("link", "add", "pcr0", "type", "veth", "peer", "name", "pcr1");
        ns.Ip("link", "set", "pcr0", "up");
        AddTable(ns, "ip");
        using var readiness = ns.Run(() => new GatewayReadiness("pcr0", new NftContext(), Table, UnreachableStore.Create(), storeOutageDegrades));

        var report = await ns.Run(() => readiness.CheckAsync(CancellationToken.None));

        Assert.Equal(new HealthReport(expected, HealthReasons.StoreUnreachable), report);
    }

    /// <summary>A store whose every call fails as a store that cannot be reached does.</summary>
#pragma warning disable CA1852 // DispatchProxy.Create refuses sealed proxy types.
    internal class UnreachableStore : DispatchProxy
    {
        public static IGatewayStore Create() => DispatchProxy.Create<IGatewayStore, UnreachableStore>();

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) =>
            throw new StoreException("Store test: the database does not answer.");
    }
#pragma warning restore CA1852
}
