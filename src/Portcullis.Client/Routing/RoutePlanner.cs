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
    /// <summary>
    /// The gateway's IPv6 tunnel address for a Portcullis gateway, whose IPv6 addresses are their IPv4 addresses'
    /// twins (the same host number in the IPv6 prefix): the client's own IPv6 address moved by as much as the
    /// gateway's IPv4 address lies from the client's (10.99.0.2 and 2001:db8:99::2/128 with gateway 10.99.0.1 give
    /// 2001:db8:99::1). Null without both an IPv4 and a global IPv6 address in <c>Address</c>.
    /// </summary>
    public static IPAddress? Ipv6Gateway(WgQuickConfig config, IPAddress gateway)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(gateway);
        var own4 = config.Interface.Addresses.FirstOrDefault(a => a.Address.AddressFamily == AddressFamily.InterNetwork)?.Address;
        var own6 = config.Interface.Addresses.FirstOrDefault(a => a.Address.AddressFamily == AddressFamily.InterNetworkV6
            && !a.Address.IsIPv6LinkLocal && !a.Address.IsIPv4MappedToIPv6)?.Address;
        if (own4 is null || own6 is null || gateway.AddressFamily != AddressFamily.InterNetwork)
            return null;
        Span<byte> four = stackalloc byte[4];
        own4.TryWriteBytes(four, out _);
        var delta = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(four);
        gateway.TryWriteBytes(four, out _);
        delta -= System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(four);
        Span<byte> six = stackalloc byte[16];
        own6.TryWriteBytes(six, out _);
        var low = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(six[12..]);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(six[12..], low - delta);
        return new IPAddress(six);
    }

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
