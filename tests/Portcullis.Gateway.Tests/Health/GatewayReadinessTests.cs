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
/// gateway needs is taken away in turn, and the report names it.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class GatewayReadinessTests
{
    private const string Table = "pcready";

    [Fact]
    public async Task Check_DeviceTableAndStore_ReportsTheFirstMissingThing()
    {
        using var ns = new TestNamespace("pcgk-ready");
        using var fixture = new StoreFixture();
        await using var store = await fixture.OpenAsync();
        ns.Ip("link", "add", "pcr0", "type", "veth", "peer", "name", "pcr1");
        using var readiness = ns.Run(() => new GatewayReadiness("pcr0", new NftContext(), Table, store, storeOutageDegrades: false));

        // The interface exists but is down; then missing altogether.
        Assert.Equal(HealthReport.Failing(HealthReasons.DeviceDown), await ns.Run(() => readiness.CheckAsync(CancellationToken.None)));
        ns.Ip("link", "set", "pcr0", "up");
        Assert.Equal(HealthReport.Failing(HealthReasons.TableMissing), await ns.Run(() => readiness.CheckAsync(CancellationToken.None)));

        ns.Exec("nft", $"add table ip {Table}; add chain ip {Table} prerouting {{ type nat hook prerouting priority dstnat; }}");
        Assert.Equal(HealthReport.Ok, await ns.Run(() => readiness.CheckAsync(CancellationToken.None)));

        ns.Exec("nft", "delete", "table", "ip", Table);
        Assert.Equal(HealthReport.Failing(HealthReasons.TableMissing), await ns.Run(() => readiness.CheckAsync(CancellationToken.None)));
        ns.Exec("nft", $"add table ip {Table}; add chain ip {Table} prerouting {{ type nat hook prerouting priority dstnat; }}");
        ns.Ip("link", "del", "pcr0");
        Assert.Equal(HealthReport.Failing(HealthReasons.DeviceDown), await ns.Run(() => readiness.CheckAsync(CancellationToken.None)));
    }

    [Theory]
    [InlineData(false, HealthState.Failing)]
    [InlineData(true, HealthState.Degraded)]
    public async Task Check_StoreFails_FailingForItsOwnStoreDegradedForAFleets(bool storeOutageDegrades, HealthState expected)
    {
        using var ns = new TestNamespace("pcgk-ready");
        ns.Ip("link", "add", "pcr0", "type", "veth", "peer", "name", "pcr1");
        ns.Ip("link", "set", "pcr0", "up");
        ns.Exec("nft", $"add table ip {Table}; add chain ip {Table} prerouting {{ type nat hook prerouting priority dstnat; }}");
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
