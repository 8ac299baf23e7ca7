using System.Globalization;
using System.Net;
using System.Text;
using Portcullis.Gateway.Forwarding;

namespace Portcullis.Gateway.Kernel;

/// <summary>
/// The part of table <c>ip portcullis</c> that decides where tunnel addresses may appear and what the tunnel reaches
/// (rules appended by <see cref="NftScript.Install"/>):
/// <list type="bullet">
/// <item>chain <c>guard</c> (prerouting, priority raw, before conntrack and NAT): a packet whose source or destination
/// lies in the tunnel prefix is dropped unless it came in on the tunnel (or loopback, the gateway talking to itself).
/// The NAT-PMP/PCP server and the forward chain trust a tunnel source to be the peer cryptokey routing let through;
/// without this, a host on any other interface could speak as a peer (map its ports, or have a peer's replies sent to
/// another), and the gateway's tunnel address would answer it. Reverse-path filtering is a host setting an operator
/// may have off or loose; this does not depend on it.</item>
/// <item>chain <c>input</c>: from the tunnel the gateway itself answers only NAT-PMP/PCP, reachability checks (TCP
/// 8352) and ICMP on its tunnel address (and DNS there when the operator runs a resolver: <see cref="GatewayNetwork.AllowDns"/>), never its other
/// services or addresses (SSH, the admin API, a management network's daemons).</item>
/// <item>egress in chain <c>forward</c>: the tunnel does not reach link-local, private or carrier-grade NAT
/// destinations behind the public interface (cloud metadata at 169.254.169.254, the provider's or the operator's
/// internal networks) unless <see cref="GatewayNetwork.AllowedDestinations"/> opens them.</item>
/// </list>
/// </summary>
internal static class NftTunnelGuardScript
{
    public const string GuardChain = "guard";

    /// <summary>Dropped as egress destinations by default: RFC 3927 link-local, RFC 1918 private, RFC 6598 shared (CGNAT).</summary>
    public static readonly IReadOnlyList<IPNetwork> NonPublicDestinations =
    [
        IPNetwork.Parse("10.0.0.0/8"),
        IPNetwork.Parse("100.64.0.0/10"),
        IPNetwork.Parse("169.254.0.0/16"),
        IPNetwork.Parse("172.16.0.0/12"),
        IPNetwork.Parse("192.168.0.0/16"),
    ];

    private static string T => $"{NftScript.Family} {NftScript.Table}";

    /// <summary>Creates the guard chain if absent and empties it (the caller declares and flushes <c>input</c>).</summary>
    public static void AppendDeclarations(StringBuilder s)
    {
        s.AppendLine(CultureInfo.InvariantCulture,
            $"add chain {T} {GuardChain} {{ type filter hook prerouting priority raw; policy accept; }}");
        s.AppendLine(CultureInfo.InvariantCulture, $"flush chain {T} {GuardChain}");
    }

    /// <summary>The guard chain's rules: tunnel sources and destinations only on the tunnel.</summary>
    public static void AppendGuard(StringBuilder s, GatewayNetwork network, string tun)
    {
        var prefix = network.TunnelPrefix.ToString();
        s.AppendLine(CultureInfo.InvariantCulture, $"add rule {T} {GuardChain} iifname != {{ {tun}, \"lo\" }} ip saddr {prefix} drop");
        s.AppendLine(CultureInfo.InvariantCulture, $"add rule {T} {GuardChain} iifname != {{ {tun}, \"lo\" }} ip daddr {prefix} drop");
    }

    /// <summary>The input chain's rules: what the tunnel may ask of the gateway itself.</summary>
    public static void AppendInput(StringBuilder s, GatewayNetwork network, string tun)
    {
        var gateway = network.GatewayTunnelAddress;
        s.AppendLine(CultureInfo.InvariantCulture, $"add rule {T} input iifname {tun} ct state established,related accept");
        s.AppendLine(CultureInfo.InvariantCulture, $"add rule {T} input iifname {tun} ip daddr {gateway} udp dport 5351 accept");
        // A peer asks "is my port really open?" here (Reachability/ReachabilityServer.cs).
        s.AppendLine(CultureInfo.InvariantCulture, $"add rule {T} input iifname {tun} ip daddr {gateway} tcp dport {Reachability.ReachabilityModel.TunnelPort} accept");
        s.AppendLine(CultureInfo.InvariantCulture, $"add rule {T} input iifname {tun} ip daddr {gateway} meta l4proto icmp accept");
        if (network.AllowDns)
            s.AppendLine(CultureInfo.InvariantCulture, $"add rule {T} input iifname {tun} ip daddr {gateway} meta l4proto {{ tcp, udp }} th dport 53 accept");
        s.AppendLine(CultureInfo.InvariantCulture, $"add rule {T} input iifname {tun} drop");
    }

    /// <summary>The forward chain's egress filter, placed before tunnel → public is accepted.</summary>
    public static void AppendEgress(StringBuilder s, GatewayNetwork network, string tun, string pub)
    {
        var rule = new StringBuilder();
        rule.Append(CultureInfo.InvariantCulture, $"add rule {T} forward iifname {tun} oifname {pub} ip daddr {{ ");
        rule.AppendJoin(", ", NonPublicDestinations);
        rule.Append(" }");
        var allowed = Outermost(network.AllowedDestinations);
        if (allowed.Count > 0)
        {
            rule.Append(" ip daddr != { ");
            rule.AppendJoin(", ", allowed);
            rule.Append(" }");
        }
        rule.Append(" drop");
        s.AppendLine(rule.ToString());
    }

    /// <summary>
    /// The prefixes no other one contains, each once: an interval set refuses overlapping elements, and two CIDR prefixes
    /// either nest or are disjoint.
    /// </summary>
    internal static List<IPNetwork> Outermost(IReadOnlyList<IPNetwork> prefixes)
    {
        var sorted = prefixes.OrderBy(p => p.PrefixLength).ToList();
        var kept = new List<IPNetwork>(sorted.Count);
        foreach (var prefix in sorted)
        {
            if (!kept.Any(k => k.Contains(prefix.BaseAddress)))
                kept.Add(prefix);
        }
        return kept;
    }
}
