using System.Reflection;
using Microsoft.Extensions.Logging;

namespace Portcullis.Cli.Tests.Logging;

/// <summary>
/// Every [LoggerMessage] of the product, found by reflection: one meaning per event id, and each component's ids inside
/// the range its log class declares. The table below is the one list of ranges.
/// </summary>
public sealed class EventIdRangeTests
{
    private static readonly (string Type, int First, int Last)[] Ranges =
    [
        ("Portcullis.WireGuard.Uapi.UapiLog", 300, 319),
        ("Portcullis.PortMapping.Server.PortMappingLog", 400, 419),
        ("Portcullis.WireGuard.Device.DeviceLog", 1000, 1099),
        ("Portcullis.Cli.Tunnel.TunnelRunner", 2000, 2019),
        ("Portcullis.Gateway.Kernel.NftForwardingTableLog", 3100, 3199),
        ("Portcullis.Gateway.Forwarding.ForwardingLog", 4000, 4049),
        ("Portcullis.Gateway.Audit.AuditLog", 4050, 4059),
        ("Portcullis.Client.Connect.ClientLog", 5000, 5099),
        ("Portcullis.Client.PortForwarding.PortKeeperLog", 5100, 5149),
        ("Portcullis.Client.Applications.ApplicationLog", 5150, 5169),
        ("Portcullis.Gateway.Hosting.GatewayHostLog", 6000, 6009),
        ("Portcullis.Cli.Gateway.GatewayRunner", 6010, 6019),
        ("Portcullis.Gateway.Hosting.PeerMemoryLog", 6030, 6039),
        ("Portcullis.Gateway.Admin.GatewayOperationsLog", 6100, 6119),
        ("Portcullis.Gateway.Store.Sqlite.SqliteStoreLog", 7000, 7099),
        ("Portcullis.Gateway.Store.Postgres.PostgresStoreLog", 7100, 7129),
        ("Portcullis.Gateway.Fleet.FleetLog", 7200, 7219),
        ("Portcullis.Gateway.Admin.Http.AdminServerLog", 7500, 7519),
    ];

    private static IEnumerable<(Type Type, MethodInfo Method, int Id)> LogMethods()
    {
        Assembly[] assemblies =
        [
            typeof(Program).Assembly, typeof(global::Portcullis.Client.Connect.ClientConnection).Assembly,
            typeof(global::Portcullis.Gateway.Hosting.GatewayHost).Assembly, typeof(global::Portcullis.PortMapping.IPortMappingAuthority).Assembly,
            typeof(global::Portcullis.WireGuard.Device.WireGuardDevice).Assembly,
        ];
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly;
        foreach (var type in assemblies.SelectMany(a => a.GetTypes()))
        {
            foreach (var method in type.GetMethods(all))
            {
                if (method.GetCustomAttribute<LoggerMessageAttribute>() is { } attribute)
                    yield return (type, method, attribute.EventId);
            }
        }
    }

    [Fact]
    public void EventIds_EveryOne_UniqueAcrossTheProduct()
    {
        var methods = LogMethods().ToList();
        Assert.True(methods.Count > 100, $"only {methods.Count} [LoggerMessage] methods found");
        var shared = methods.GroupBy(m => m.Id).Where(g => g.Count() > 1)
            .Select(g => $"{g.Key}: {string.Join(", ", g.Select(m => $"{m.Type.Name}.{m.Method.Name}"))}");
        Assert.Empty(shared);
    }

    [Fact]
    public void EventIds_EveryOne_InsideItsComponentsRange()
    {
        var outside = LogMethods()
            .Where(m => Ranges.FirstOrDefault(r => r.Type == m.Type.FullName) is not { Type: not null } range || m.Id < range.First || m.Id > range.Last)
            .Select(m => $"{m.Type.FullName}.{m.Method.Name} ({m.Id})");
        Assert.Empty(outside);
    }

    [Fact]
    public void Ranges_NoTwoOverlap()
    {
        var sorted = Ranges.OrderBy(r => r.First).ToList();
        for (var i = 1; i < sorted.Count; i++)
            Assert.True(sorted[i].First > sorted[i - 1].Last, $"{sorted[i - 1].Type} and {sorted[i].Type} overlap");
    }
}
