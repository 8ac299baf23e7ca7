using System.Globalization;
using System.Text;
using System.Text.Json;
using Portcullis.Gateway.Forwarding;

namespace Portcullis.Gateway.Kernel;

/// <summary>
/// The part of table <c>ip portcullis</c> that enforces <see cref="InboundLimits"/>:
/// <list type="bullet">
/// <item>chain <c>inbound_limits</c>, jumped to from <c>forward</c> for a new connection DNATed toward the tunnel, before
/// it is accepted. Its rules are the only thing a limit change rewrites (<see cref="Replace"/>, one transaction).</item>
/// <item>dynamic sets keyed by the forward's destination (<c>ip daddr . meta l4proto . th dport</c> after DNAT): one
/// token bucket per key (<c>inbound_rate</c>, elements time out after a quiet minute) and one connection count per key
/// (<c>inbound_connections</c>, conntrack's own count, gone with the key's last connection). Both are emptied when the
/// rules change, so a new limit holds from the next connection instead of when old buckets expire.</item>
/// <item>named counters per reason (<c>inbound_rate_drops</c>, <c>inbound_connection_drops</c>), which survive
/// reinstalls and limit changes, so the metrics built from them only ever rise.</item>
/// </list>
/// </summary>
internal static class NftInboundLimitScript
{
    public const string Chain = "inbound_limits";
    public const string RateSet = "inbound_rate";
    public const string ConnectionSet = "inbound_connections";
    public const string RateCounter = "inbound_rate_drops";
    public const string ConnectionCounter = "inbound_connection_drops";
    private const string Key = "ip daddr . meta l4proto . th dport";

    private static string T => $"{NftScript.Family} {NftScript.Table}";

    /// <summary>Declarations (create if absent) and the chain's rules for <paramref name="limits"/>; part of Install.</summary>
    public static void AppendDeclarations(StringBuilder s, InboundLimits limits)
    {
        s.AppendLine(CultureInfo.InvariantCulture, $"add counter {T} {RateCounter}");
        s.AppendLine(CultureInfo.InvariantCulture, $"add counter {T} {ConnectionCounter}");
        s.AppendLine(CultureInfo.InvariantCulture,
            $"add set {T} {RateSet} {{ type ipv4_addr . inet_proto . inet_service; flags dynamic, timeout; timeout 60s; size 65535; }}");
        s.AppendLine(CultureInfo.InvariantCulture,
            $"add set {T} {ConnectionSet} {{ type ipv4_addr . inet_proto . inet_service; flags dynamic; size 65535; }}");
        s.AppendLine(CultureInfo.InvariantCulture, $"add chain {T} {Chain}");
        AppendRules(s, limits);
    }

    /// <summary>The forward chain's jump: new connections a mapping or route DNATed toward the tunnel.</summary>
    public static string JumpRule(string quotedTunnel) =>
        $"add rule {T} forward oifname {quotedTunnel} ct state new ct status dnat jump {Chain}";

    /// <summary>One transaction replacing the chain's rules (and emptying the per-key state) with <paramref name="limits"/>'.</summary>
    public static string Replace(InboundLimits limits)
    {
        var s = new StringBuilder();
        AppendRules(s, limits);
        return s.ToString();
    }

    // One listing (one JSON document) of the table's named counters; two "list counter" commands would print two.
    public static string ListCounters() => $"list counters table {T}";

    /// <summary>The two counters' packet counts from <c>nft -j list counters</c> output (missing ones read 0).</summary>
    public static InboundDropCounts ParseCounters(string json)
    {
        long rate = 0, connections = 0;
        using var document = JsonDocument.Parse(json);
        foreach (var item in document.RootElement.GetProperty("nftables").EnumerateArray())
        {
            if (!item.TryGetProperty("counter", out var counter))
                continue;
            var packets = counter.GetProperty("packets").GetInt64();
            switch (counter.GetProperty("name").GetString())
            {
                case RateCounter:
                    rate = packets;
                    break;
                case ConnectionCounter:
                    connections = packets;
                    break;
            }
        }
        return new InboundDropCounts(rate, connections);
    }

    private static void AppendRules(StringBuilder s, InboundLimits limits)
    {
        s.AppendLine(CultureInfo.InvariantCulture, $"flush chain {T} {Chain}");
        s.AppendLine(CultureInfo.InvariantCulture, $"flush set {T} {RateSet}");
        s.AppendLine(CultureInfo.InvariantCulture, $"flush set {T} {ConnectionSet}");
        // Burst = rate: N connections at once pass, the N+1th within the same second does not (nft's default burst
        // is 5 whatever the rate).
        if (limits.NewPerSecond > 0)
        {
            s.AppendLine(CultureInfo.InvariantCulture,
                $"add rule {T} {Chain} update @{RateSet} {{ {Key} limit rate over {limits.NewPerSecond}/second burst {limits.NewPerSecond} packets }} counter name \"{RateCounter}\" drop");
        }
        if (limits.MaxConnections > 0)
        {
            s.AppendLine(CultureInfo.InvariantCulture,
                $"add rule {T} {Chain} add @{ConnectionSet} {{ {Key} ct count over {limits.MaxConnections} }} counter name \"{ConnectionCounter}\" drop");
        }
    }
}
