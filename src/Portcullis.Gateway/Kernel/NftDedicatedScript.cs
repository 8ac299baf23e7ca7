using System.Globalization;
using System.Net;
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
/// </summary>
internal static class NftDedicatedScript
{
    public const string EgressMap = "egress";
    public const string InboundMap = "dedicated";
    public const string ExcludedSet = "dedicated_excluded";
    public const string AddressSet = "dedicated_addresses";
    public const string PairSet = "egress_pairs";

    private static string T => $"{NftScript.Family} {NftScript.Table}";

    /// <summary>Creates the maps and set if absent; their elements stay (reconciliation decides about them).</summary>
    public static void AppendDeclarations(StringBuilder s)
    {
        s.AppendLine(CultureInfo.InvariantCulture, $"add map {T} {EgressMap} {{ type ipv4_addr : ipv4_addr; }}");
        s.AppendLine(CultureInfo.InvariantCulture, $"add map {T} {InboundMap} {{ type ipv4_addr : ipv4_addr; }}");
        s.AppendLine(CultureInfo.InvariantCulture, $"add set {T} {ExcludedSet} {{ type inet_service; flags interval; }}");
        s.AppendLine(CultureInfo.InvariantCulture, $"add set {T} {AddressSet} {{ type ipv4_addr; }}");
        s.AppendLine(CultureInfo.InvariantCulture, $"add set {T} {PairSet} {{ type ipv4_addr . ipv4_addr; }}");
    }

    /// <summary>
    /// The forward chain's guard, first in the chain (before established flows are accepted): a flow whose NAT source
    /// is a dedicated address and whose original source is not that address's owner is dropped, in both directions.
    /// </summary>
    public static string GuardRule() =>
        $"add rule {T} forward ct status snat ct reply ip daddr @{AddressSet} ct original ip saddr . ct reply ip daddr != @{PairSet} drop";

    /// <summary>Replaces every element of the two maps and the set in one transaction.</summary>
    public static string Replace(IReadOnlyCollection<DedicatedRoute> routes, IReadOnlySet<ushort> excludedPorts)
    {
        var s = new StringBuilder();
        AppendDeclarations(s);
        s.AppendLine(CultureInfo.InvariantCulture, $"flush map {T} {EgressMap}");
        s.AppendLine(CultureInfo.InvariantCulture, $"flush map {T} {InboundMap}");
        s.AppendLine(CultureInfo.InvariantCulture, $"flush set {T} {ExcludedSet}");
        s.AppendLine(CultureInfo.InvariantCulture, $"flush set {T} {AddressSet}");
        s.AppendLine(CultureInfo.InvariantCulture, $"flush set {T} {PairSet}");

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
        AppendElements(s, EgressMap, egress);
        AppendElements(s, InboundMap, inbound);
        AppendElements(s, ExcludedSet, Ranges(excludedPorts));
        AppendElements(s, AddressSet, addresses);
        AppendElements(s, PairSet, pairs);
        return s.ToString();
    }

    public static string ListEgress() => $"list map {T} {EgressMap}";

    public static string ListInbound() => $"list map {T} {InboundMap}";

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

    private static void AppendElements(StringBuilder s, string name, List<string> elements)
    {
        if (elements.Count == 0)
            return;
        s.Append(CultureInfo.InvariantCulture, $"add element {T} {name} {{ ");
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
