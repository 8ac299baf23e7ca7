using System.Globalization;
using System.Text;
using System.Text.Json;
using Portcullis.Gateway.Forwarding;

namespace Portcullis.Gateway.Kernel;

/// <summary>
/// The part of tables <c>ip portcullis</c> and <c>ip6 portcullis</c> (the same in both, with the family's addresses)
/// that enforces <see cref="InboundLimits"/>:
/// <list type="bullet">
/// <item>chain <c>inbound_limits</c>, jumped to from <c>forward</c> for a new connection a mapping admits toward the
/// tunnel (DNATed, or with a routed IPv6 prefix through a pinhole), before it is accepted. Its rules are the only thing a limit change rewrites (<see cref="Replace"/>, one transaction).</item>
/// <item>dynamic sets keyed by the forward's destination (<c>ip daddr . meta l4proto . th dport</c> after DNAT): one
/// token bucket per key (<c>inbound_rate</c>, elements time out after a quiet minute) and one connection count per key
/// (<c>inbound_connections</c>, conntrack's own count, gone with the key's last connection). Both are emptied when the
/// rules change, so a new limit holds from the next connection instead of when old buckets expire.</item>
/// <item>named counters per reason (<c>inbound_rate_drops</c>, <c>inbound_connection_drops</c>), which survive
/// reinstalls and limit changes, so the metrics built from them only ever rise; a reason's drops are the sum over
/// both tables.</item>
/// </list>
/// </summary>
internal static class NftInboundLimitScript
{
    public const string Chain = "inbound_limits";
    public const string RateSet = "inbound_rate";
    public const string ConnectionSet = "inbound_connections";
    public const string RateCounter = "inbound_rate_drops";
    public const string ConnectionCounter = "inbound_connection_drops";
    private static string T(string family) => $"{family} {NftScript.Table}";

    /// <summary>Declarations (create if absent) and the chain's rules for <paramref name="limits"/>; part of Install.</summary>
    public static void AppendDeclarations(StringBuilder s, InboundLimits limits, string family = NftScript.Family)
    {
        var address = family == NftScript.Family ? "ipv4_addr" : "ipv6_addr";
        s.AppendLine(CultureInfo.InvariantCulture, $"add counter {T(family)} {RateCounter}");
        s.AppendLine(CultureInfo.InvariantCulture, $"add counter {T(family)} {ConnectionCounter}");
        s.AppendLine(CultureInfo.InvariantCulture,
            $"add set {T(family)} {RateSet} {{ type {address} . inet_proto . inet_service; flags dynamic, timeout; timeout 60s; size 65535; }}");
        s.AppendLine(CultureInfo.InvariantCulture,
            $"add set {T(family)} {ConnectionSet} {{ type {address} . inet_proto . inet_service; flags dynamic; size 65535; }}");
        s.AppendLine(CultureInfo.InvariantCulture, $"add chain {T(family)} {Chain}");
        AppendRules(s, limits, family);
    }

    /// <summary>
    /// The forward chain's jump: new connections toward the tunnel that <paramref name="admitted"/> matches — those a
    /// mapping or route DNATed, or (routed IPv6) a pinhole's.
    /// </summary>
    public static string JumpRule(string quotedTunnel, string family = NftScript.Family, string admitted = "ct status dnat") =>
        $"add rule {T(family)} forward oifname {quotedTunnel} ct state new {admitted} jump {Chain}";

    /// <summary>
    /// One transaction replacing the chain's rules (and emptying the per-key state) with <paramref name="limits"/>', in
    /// table ip and, when <paramref name="ipv6"/>, in table ip6 too.
    /// </summary>
    public static string Replace(InboundLimits limits, bool ipv6 = false)
    {
        var s = new StringBuilder();
        AppendRules(s, limits, NftScript.Family);
        if (ipv6)
            AppendRules(s, limits, NftIpv6Script.Family);
        return s.ToString();
    }

    /// <summary>Whether table ip6 has the chain (IPv6 configured): listing it fails otherwise.</summary>
    public static string ListIpv6Chain() => $"list chain {T(NftIpv6Script.Family)} {Chain}";

    // One listing (one JSON document) of every table's named counters, ours picked by table and family below: a table
    // that is absent (ip6 without IPv6) then only has none, where naming it would fail the whole listing.
    public static string ListCounters() => "list counters";

    /// <summary>
    /// The two counters' packet counts, summed over tables ip and ip6 portcullis, from <c>nft -j list counters</c> output
    /// (missing ones read 0; other tables' counters are ignored).
    /// </summary>
    public static InboundDropCounts ParseCounters(string json)
    {
        long rate = 0, connections = 0;
        using var document = JsonDocument.Parse(json);
        foreach (var item in document.RootElement.GetProperty("nftables").EnumerateArray())
        {
            if (!item.TryGetProperty("counter", out var counter) || !Ours(counter))
                continue;
            var packets = counter.GetProperty("packets").GetInt64();
            switch (counter.GetProperty("name").GetString())
            {
                case RateCounter:
                    rate += packets;
                    break;
                case ConnectionCounter:
                    connections += packets;
                    break;
            }
        }
        return new InboundDropCounts(rate, connections);
    }

    private static bool Ours(JsonElement counter) =>
        counter.TryGetProperty("table", out var table) && table.GetString() == NftScript.Table
        && counter.TryGetProperty("family", out var family) && family.GetString() is NftScript.Family or NftIpv6Script.Family;

    private static void AppendRules(StringBuilder s, InboundLimits limits, string family)
    {
        var t = T(family);
        var key = NftScript.KeyOf(family);
        s.AppendLine(CultureInfo.InvariantCulture, $"flush chain {t} {Chain}");
        s.AppendLine(CultureInfo.InvariantCulture, $"flush set {t} {RateSet}");
        s.AppendLine(CultureInfo.InvariantCulture, $"flush set {t} {ConnectionSet}");
        // Burst = rate: N connections at once pass, the N+1th within the same second does not (nft's default burst
        // is 5 whatever the rate).
        if (limits.NewPerSecond > 0)
        {
            s.AppendLine(CultureInfo.InvariantCulture,
                $"add rule {t} {Chain} update @{RateSet} {{ {key} limit rate over {limits.NewPerSecond}/second burst {limits.NewPerSecond} packets }} counter name \"{RateCounter}\" drop");
        }
        if (limits.MaxConnections > 0)
        {
            s.AppendLine(CultureInfo.InvariantCulture,
                $"add rule {t} {Chain} add @{ConnectionSet} {{ {key} ct count over {limits.MaxConnections} }} counter name \"{ConnectionCounter}\" drop");
        }
    }
}
