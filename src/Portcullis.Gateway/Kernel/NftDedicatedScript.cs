using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Portcullis.Gateway.Forwarding;

namespace Portcullis.Gateway.Kernel;

/// <summary>
/// The dedicated-address part of table <c>ip portcullis</c> (rules in <see cref="NftScript.Install"/>):
/// <list type="bullet">
/// <item>map <c>egress</c>, tunnel address → public address: <c>snat ip to ip saddr map @egress</c> runs before the
/// default SNAT to the first shared address, so a peer with a dedicated address leaves from it and everyone else
/// falls through (a lookup that misses ends the rule, not the chain).</item>
/// <item>map <c>dedicated</c>, public address → tunnel address: "every port" forwarding, a DNAT after the per-port
/// <c>mappings</c> map (which therefore wins), skipping the ports in the interval set <c>dedicated_excluded</c>.</item>
/// <item>sets <c>dedicated_addresses</c> and <c>egress_pairs</c> (tunnel address . public address) guard the forward
/// chain: a flow SNATed to a dedicated address passes only while its source still owns that address, so flows a
/// previous owner opened stop when the address moves on and never leave from it again.</item>
/// </list>
/// Both maps hold bare addresses, so <c>nft list ruleset</c> reads <c>10.99.0.2 : 198.51.100.11</c>. A change is
/// one transaction: flush the maps and sets, add the new elements.
/// <para>IPv6 (NAT66 only): table <c>ip6 portcullis</c> (<see cref="NftIpv6Script"/>) holds the same maps and sets by
/// the same names with IPv6 addresses, and the same rules: SNAT66 from a peer's tunnel IPv6 address to its dedicated
/// IPv6 address ahead of the shared SNAT (<see cref="Ipv6EgressRule"/>), DNAT66 of every port after the mappings
/// (<see cref="AppendIpv6InboundRules"/>), and the forward guard (<see cref="Ipv6GuardRule"/>). IPv6 routes go there in
/// the same transaction as the IPv4 ones.</para>
/// </summary>
internal static class NftDedicatedScript
{
    public const string EgressMap = "egress";
    public const string InboundMap = "dedicated";
    public const string ExcludedSet = "dedicated_excluded";
    public const string AddressSet = "dedicated_addresses";
    public const string PairSet = "egress_pairs";

    private static string T => $"{NftScript.Family} {NftScript.Table}";

    private static string T6 => $"{NftIpv6Script.Family} {NftScript.Table}";

    /// <summary>Creates the maps and set if absent; their elements stay (reconciliation decides about them).</summary>
    public static void AppendDeclarations(StringBuilder s) => AppendDeclarations(s, T, "ipv4_addr");

    /// <summary>The same maps and sets in table <c>ip6 portcullis</c>.</summary>
    public static void AppendIpv6Declarations(StringBuilder s) => AppendDeclarations(s, T6, "ipv6_addr");

    /// <summary>
    /// The forward chain's guard, first in the chain (before established flows are accepted): a flow whose NAT source
    /// is a dedicated address and whose original source is not that address's owner is dropped, in both directions.
    /// </summary>
    public static string GuardRule() => GuardRule(T, "ip");

    /// <summary>The IPv6 table's guard, first in its forward chain.</summary>
    public static string Ipv6GuardRule() => GuardRule(T6, "ip6");

    /// <summary>
    /// The IPv6 table's prerouting rule, after the mappings' DNAT: every TCP/UDP port of a dedicated address whose owner
    /// is live goes to its tunnel IPv6 address, but the ports the gateway itself listens on (kept by the table's first
    /// prerouting rule, <see cref="NftIpv6Script.Install"/>) and the excluded ones.
    /// </summary>
    public static void AppendIpv6InboundRules(StringBuilder s, string interfaces) =>
        s.AppendLine(CultureInfo.InvariantCulture,
            $"add rule {T6} prerouting iifname {{ {interfaces} }} meta l4proto {{ tcp, udp }} th dport != @{ExcludedSet} dnat ip6 to ip6 daddr map @{InboundMap}");

    /// <summary>The IPv6 table's egress rule, ahead of the shared SNAT66: a peer with a dedicated IPv6 address leaves from it.</summary>
    public static string Ipv6EgressRule(string publicInterface, IPNetwork tunnelPrefix) =>
        $"add rule {T6} postrouting oifname {publicInterface} ip6 saddr {tunnelPrefix} snat ip6 to ip6 saddr map @{EgressMap}";

    /// <summary>
    /// Replaces every element of the two maps and the sets in one transaction; with <paramref name="ipv6Table"/> those of
    /// the IPv6 table as well (IPv6 routes go there; without it there must be none).
    /// </summary>
    public static string Replace(IReadOnlyCollection<DedicatedRoute> routes, IReadOnlySet<ushort> excludedPorts, bool ipv6Table = false)
    {
        var s = new StringBuilder();
        AppendReplace(s, T, "ipv4_addr", [.. routes.Where(r => r.PublicAddress.AddressFamily == AddressFamily.InterNetwork)], excludedPorts);
        if (ipv6Table)
            AppendReplace(s, T6, "ipv6_addr", [.. routes.Where(r => r.PublicAddress.AddressFamily == AddressFamily.InterNetworkV6)], excludedPorts);
        return s.ToString();
    }

    public static string ListEgress() => $"list map {T} {EgressMap}";

    public static string ListInbound() => $"list map {T} {InboundMap}";

    public static string ListIpv6Egress() => $"list map {T6} {EgressMap}";

    public static string ListIpv6Inbound() => $"list map {T6} {InboundMap}";

    private static void AppendDeclarations(StringBuilder s, string t, string type)
    {
        s.AppendLine(CultureInfo.InvariantCulture, $"add map {t} {EgressMap} {{ type {type} : {type}; }}");
        s.AppendLine(CultureInfo.InvariantCulture, $"add map {t} {InboundMap} {{ type {type} : {type}; }}");
        s.AppendLine(CultureInfo.InvariantCulture, $"add set {t} {ExcludedSet} {{ type inet_service; flags interval; }}");
        s.AppendLine(CultureInfo.InvariantCulture, $"add set {t} {AddressSet} {{ type {type}; }}");
        s.AppendLine(CultureInfo.InvariantCulture, $"add set {t} {PairSet} {{ type {type} . {type}; }}");
    }

    private static string GuardRule(string t, string ip) =>
        $"add rule {t} forward ct status snat ct reply {ip} daddr @{AddressSet} ct original {ip} saddr . ct reply {ip} daddr != @{PairSet} drop";

    private static void AppendReplace(StringBuilder s, string t, string type, List<DedicatedRoute> routes, IReadOnlySet<ushort> excludedPorts)
    {
        AppendDeclarations(s, t, type);
        s.AppendLine(CultureInfo.InvariantCulture, $"flush map {t} {EgressMap}");
        s.AppendLine(CultureInfo.InvariantCulture, $"flush map {t} {InboundMap}");
        s.AppendLine(CultureInfo.InvariantCulture, $"flush set {t} {ExcludedSet}");
        s.AppendLine(CultureInfo.InvariantCulture, $"flush set {t} {AddressSet}");
        s.AppendLine(CultureInfo.InvariantCulture, $"flush set {t} {PairSet}");

        var egress = new List<string>(routes.Count);
        var inbound = new List<string>(routes.Count);
        var addresses = new List<string>(routes.Count);
        var pairs = new List<string>(routes.Count);
        foreach (var route in routes)
        {
            egress.Add($"{route.TunnelAddress} : {route.PublicAddress}");
            if (route.ForwardAllPorts)
                inbound.Add($"{route.PublicAddress} : {route.TunnelAddress}");
            addresses.Add(route.PublicAddress.ToString());
            pairs.Add($"{route.TunnelAddress} . {route.PublicAddress}");
        }
        AppendElements(s, t, EgressMap, egress);
        AppendElements(s, t, InboundMap, inbound);
        AppendElements(s, t, ExcludedSet, Ranges(excludedPorts));
        AppendElements(s, t, AddressSet, addresses);
        AppendElements(s, t, PairSet, pairs);
    }

    /// <summary>
    /// Joins the JSON listings (libnftables-json(5): a map element is <c>["KEY", "VALUE"]</c>) into routes: one per
    /// egress element, with <see cref="DedicatedRoute.ForwardAllPorts"/> when the inbound map sends its public address
    /// back to the same tunnel address. An inbound element without that egress twin comes back as a route of its own,
    /// so whoever reconciles sees it and can remove it.
    /// </summary>
    public static List<DedicatedRoute> Parse(string egressJson, string inboundJson)
    {
        var inbound = new Dictionary<IPAddress, IPAddress>();
        foreach (var (publicAddress, tunnel) in Pairs(inboundJson))
            inbound[publicAddress] = tunnel;

        var routes = new List<DedicatedRoute>();
        foreach (var (tunnel, publicAddress) in Pairs(egressJson))
        {
            var all = inbound.TryGetValue(publicAddress, out var target) && target.Equals(tunnel);
            if (all)
                inbound.Remove(publicAddress);
            routes.Add(new DedicatedRoute(publicAddress, tunnel, all));
        }
        foreach (var (publicAddress, tunnel) in inbound)
            routes.Add(new DedicatedRoute(publicAddress, tunnel, ForwardAllPorts: true));
        return routes;
    }

    /// <summary>Ports as maximal runs ("135-139"), so a set of thousands of blocked ports stays a few elements.</summary>
    internal static List<string> Ranges(IReadOnlySet<ushort> ports)
    {
        var sorted = new List<ushort>(ports);
        sorted.Sort();
        var ranges = new List<string>();
        var i = 0;
        while (i < sorted.Count)
        {
            var first = sorted[i];
            var last = first;
            while (i + 1 < sorted.Count && sorted[i + 1] == last + 1)
                last = sorted[++i];
            i++;
            ranges.Add(first == last
                ? first.ToString(CultureInfo.InvariantCulture)
                : string.Create(CultureInfo.InvariantCulture, $"{first}-{last}"));
        }
        return ranges;
    }

    private static void AppendElements(StringBuilder s, string t, string name, List<string> elements)
    {
        if (elements.Count == 0)
            return;
        s.Append(CultureInfo.InvariantCulture, $"add element {t} {name} {{ ");
        s.AppendJoin(", ", elements);
        s.Append(" }\n");
    }

    private static List<(IPAddress Key, IPAddress Value)> Pairs(string json)
    {
        var pairs = new List<(IPAddress, IPAddress)>();
        using var document = JsonDocument.Parse(json);
        if (!document.RootElement.TryGetProperty("nftables", out var items) || items.ValueKind != JsonValueKind.Array)
            throw Malformed("no \"nftables\" array");
        foreach (var item in items.EnumerateArray())
        {
            if (!item.TryGetProperty("map", out var map) || !map.TryGetProperty("elem", out var elements))
                continue;
            foreach (var element in elements.EnumerateArray())
            {
                if (element.ValueKind != JsonValueKind.Array || element.GetArrayLength() != 2)
                    throw Malformed("a map element is not a [key, value] pair");
                pairs.Add((ReadAddress(element[0]), ReadAddress(element[1])));
            }
        }
        return pairs;
    }

    private static IPAddress ReadAddress(JsonElement element) =>
        element.ValueKind == JsonValueKind.String && IPAddress.TryParse(element.GetString(), out var address)
            ? address
            : throw Malformed($"'{element}' is not an address");

    private static ForwardingTableException Malformed(string what) => new($"unexpected nft listing: {what}");
}
