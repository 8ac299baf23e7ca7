using System.Net;
using System.Net.Sockets;
using Portcullis.Client.Config;
using Portcullis.Linux.Links;

namespace Portcullis.Client.Routing;

/// <summary>
/// AllowedIPs → routes and rules, as wg-quick(8) computes them:
/// 1. every AllowedIPs prefix of every peer, duplicates dropped, longest prefix first;
/// 2. Table = off: no routes; Table = N: every prefix routed in table N, no rules;
/// 3. Table = auto (default): a /0 is a full tunnel for its family — default route in table 51820 plus the rules
///    "not fwmark 51820 lookup 51820" and "lookup main suppress_prefixlength 0"; any other prefix goes to main.
/// The fwmark rule is what keeps the encrypted packets (marked by the device) out of the tunnel, with no host route
/// to the endpoint: a route around the tunnel for the endpoint's address is what the "Port Fail" attack abuses.
/// </summary>
public static class RoutePlanner
{
    public static RoutePlan Plan(WgQuickConfig config, string interfaceName)
    {
        ArgumentNullException.ThrowIfNull(config);
        var prefixes = new List<IPNetwork>();
        foreach (var peer in config.Peers)
        {
            foreach (var prefix in peer.AllowedIps)
            {
                if (!prefixes.Contains(prefix))
                    prefixes.Add(prefix);
            }
        }
        // Stable sort: equal lengths keep file order.
        var ordered = prefixes.Select((p, i) => (p, i)).OrderByDescending(x => x.p.PrefixLength).ThenBy(x => x.i).Select(x => x.p).ToList();

        var routes = new List<PlannedRoute>();
        var rules = new List<RoutingRule>();
        bool full4 = false, full6 = false;
        var table = config.RoutingTable;
        var explicitTable = table is not null && config.Interface.Table is { } t && !t.Equals("auto", StringComparison.OrdinalIgnoreCase);
        if (table is int number)
        {
            foreach (var prefix in ordered)
            {
                if (explicitTable)
                {
                    routes.Add(new PlannedRoute(prefix, number));
                }
                else if (prefix.PrefixLength == 0)
                {
                    routes.Add(new PlannedRoute(prefix, number));
                    if (prefix.BaseAddress.AddressFamily == AddressFamily.InterNetwork)
                        full4 = true;
                    else
                        full6 = true;
                }
                else
                {
                    routes.Add(new PlannedRoute(prefix, Link.MainTable));
                }
            }
            if (full4)
                rules.AddRange(FullTunnelRules(AddressFamily.InterNetwork, number, config.FwMark));
            if (full6)
                rules.AddRange(FullTunnelRules(AddressFamily.InterNetworkV6, number, config.FwMark));
        }

        return new RoutePlan
        {
            Interface = interfaceName,
            Mtu = config.Mtu,
            Addresses = config.Interface.Addresses,
            Routes = routes,
            Rules = rules,
            FwMark = config.FwMark,
            FullTunnel4 = full4,
            FullTunnel6 = full6,
        };
    }

    /// <summary>wg-quick's two rules for one family, in the order it adds them.</summary>
    public static IReadOnlyList<RoutingRule> FullTunnelRules(AddressFamily family, int table, uint fwMark) =>
    [
        new RoutingRule { Family = family, Not = true, FwMark = fwMark, Table = table },
        new RoutingRule { Family = family, Table = Link.MainTable, SuppressPrefixLength = 0 },
    ];

    /// <summary>
    /// Where port requests go by default: the first host of the first IPv4 Address prefix (10.99.0.2/16 asks
    /// 10.99.0.1), as DESIGN.md section 6 says. Null when the interface has no IPv4 address.
    /// </summary>
    public static IPAddress? DefaultGateway(WgQuickConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        foreach (var address in config.Interface.Addresses)
        {
            if (address.Address.AddressFamily != AddressFamily.InterNetwork || address.PrefixLength > 30)
                continue;
            Span<byte> bytes = stackalloc byte[4];
            address.Address.TryWriteBytes(bytes, out _);
            var value = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes);
            var mask = address.PrefixLength == 0 ? 0u : uint.MaxValue << (32 - address.PrefixLength);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(bytes, (value & mask) + 1);
            return new IPAddress(bytes);
        }
        return null;
    }
}
