using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Portcullis.Gateway.Forwarding;

namespace Portcullis.Gateway.Kernel;

/// <summary>
/// Table <c>ip6 portcullis</c>: the tunnel's IPv6 side, beside <c>ip portcullis</c> (<see cref="NftScript"/>) and
/// installed in the same transaction, so the two families never disagree. Its rules mirror the IPv4 table's:
/// <list type="bullet">
/// <item><c>guard</c> (prerouting, raw): a source in the tunnel prefix is dropped unless it came in on the tunnel (or
/// loopback). With NAT66 a destination in it is dropped likewise (nothing outside addresses peers directly); with a
/// routed prefix the internet does address them, so only the gateway's own tunnel address is closed to it and the
/// forward chain decides about the rest.</item>
/// <item><c>postrouting</c>: NAT66 — peers' IPv6 leaves from the first public IPv6 address (snat); routed — unchanged,
/// from the peer's own /128.</item>
/// <item><c>prerouting</c>: first, a TCP/UDP port the gateway itself has a socket on at its own address stays the
/// gateway's (as in table ip); then (NAT66 only) the map <c>mappings</c> / set <c>leases</c>, declared as IPv4's
/// (<see cref="NftScript.AppendMappingDeclarations"/>) with IPv6 addresses: a mapping (PCP MAP from a peer's IPv6
/// address) is DNATed from the public IPv6 address; with a routed prefix its key is the peer's own /128, and the
/// lease is a pinhole the forward chain admits.</item>
/// <item><c>forward</c>: replies pass; nothing new reaches the tunnel but a mapping's flows;
/// peers are isolated from each other unless peer-to-peer is allowed; non-public destinations (ULA, link-local,
/// site-local, IPv4-mapped, multicast) are dropped unless allowed; the tunnel reaches the public interface only.</item>
/// <item>remote-peer filters (<see cref="NftFilterScript"/>) and per-mapping inbound limits
/// (<see cref="NftInboundLimitScript"/>) as IPv4's, keyed by the mapping's key (with a routed prefix the peer's /128).</item>
/// <item><c>input</c>: from the tunnel the gateway answers PCP (UDP 5351) and ICMPv6 on its tunnel address only.</item>
/// </list>
/// Without IPv6 configured the transaction removes the table (a previous run's), so IPv6 from the tunnel meets no
/// NAT, and the device drops it anyway (no peer has IPv6 allowed-ips).
/// </summary>
internal static class NftIpv6Script
{
    public const string Family = "ip6";

    /// <summary>Dropped as egress destinations by default: ULA (RFC 4193), link-local, site-local, IPv4-mapped, multicast.</summary>
    public static readonly IReadOnlyList<IPNetwork> NonPublicDestinations =
    [
        IPNetwork.Parse("::ffff:0:0/96"),
        IPNetwork.Parse("fc00::/7"),
        IPNetwork.Parse("fe80::/10"),
        IPNetwork.Parse("fec0::/10"),
        IPNetwork.Parse("ff00::/8"),
    ];

    private static string T => $"{Family} {NftScript.Table}";

    /// <summary>The IPv6 table for <paramref name="network"/>, or its removal when the network has no IPv6.</summary>
    public static string Install(GatewayNetwork network)
    {
        ArgumentNullException.ThrowIfNull(network);
        if (network.Ipv6 is not { } v6)
            return Uninstall();
        Check(v6);
        var tun = $"\"{network.TunnelInterface}\"";
        var pub = $"\"{network.PublicInterface}\"";
        var prefix = v6.TunnelPrefix.ToString();
        var gateway = v6.GatewayTunnelAddress;
        var s = new StringBuilder();
        s.AppendLine(CultureInfo.InvariantCulture, $"add table {T}");
        NftScript.AppendMappingDeclarations(s, Family);
        NftFilterScript.AppendDeclarations(s, Family);
        NftDedicatedScript.AppendIpv6Declarations(s);
        s.AppendLine(CultureInfo.InvariantCulture, $"add chain {T} prerouting {{ type nat hook prerouting priority dstnat; policy accept; }}");
        s.AppendLine(CultureInfo.InvariantCulture, $"add chain {T} guard {{ type filter hook prerouting priority raw; policy accept; }}");
        s.AppendLine(CultureInfo.InvariantCulture, $"add chain {T} postrouting {{ type nat hook postrouting priority srcnat; policy accept; }}");
        s.AppendLine(CultureInfo.InvariantCulture, $"add chain {T} forward {{ type filter hook forward priority filter; policy accept; }}");
        s.AppendLine(CultureInfo.InvariantCulture, $"add chain {T} input {{ type filter hook input priority filter; policy accept; }}");
        foreach (var chain in (string[])["guard", "prerouting", "postrouting", "forward", "input"])
            s.AppendLine(CultureInfo.InvariantCulture, $"flush chain {T} {chain}");
        NftInboundLimitScript.AppendDeclarations(s, network.InboundLimits, Family);

        s.AppendLine(CultureInfo.InvariantCulture, $"add rule {T} guard iifname != {{ {tun}, \"lo\" }} ip6 saddr {prefix} drop");
        var routed = v6.PublicAddresses.Count == 0;
        var closed = routed ? $"{gateway}/128" : prefix;
        s.AppendLine(CultureInfo.InvariantCulture, $"add rule {T} guard iifname != {{ {tun}, \"lo\" }} ip6 daddr {closed} drop");

        // A port the gateway itself listens on (its WireGuard port, an SSH daemon) at any of its own addresses — the
        // shared public IPv6 addresses and dedicated ones alike — stays the gateway's: first, as in table ip, so neither
        // a filter's drop, a mapping or static forward (whatever wrote it into the map) nor every-port forwarding takes it.
        s.AppendLine(CultureInfo.InvariantCulture,
            $"add rule {T} prerouting iifname {{ {pub}, {tun} }} meta l4proto {{ tcp, udp }} fib daddr type local socket transparent 0 accept");
        // A mapping with remote-peer filters (PCP FILTER) is dark to every other source, in both modes: ahead of the
        // DNAT with NAT66; routed, ahead of the forward chain's pinhole accept (prerouting comes first).
        s.AppendLine(NftFilterScript.DropRule($"{pub}, {tun}", Family));
        if (!routed)
        {
            // NAT66 inbound as IPv4's: a leased key on the public address is DNATed to its peer's /128, from the
            // internet and hairpinned from the tunnel (which then appears from the gateway, so replies come back).
            s.AppendLine(NftScript.DnatRule(Family, $"iifname {{ {pub}, {tun} }}"));
            NftDedicatedScript.AppendIpv6InboundRules(s, $"{pub}, {tun}");
            s.AppendLine(NftDedicatedScript.Ipv6EgressRule(pub, v6.TunnelPrefix));
            s.AppendLine(CultureInfo.InvariantCulture, $"add rule {T} postrouting oifname {pub} ip6 saddr {prefix} snat to {v6.PublicAddresses[0]}");
            s.AppendLine(CultureInfo.InvariantCulture, $"add rule {T} postrouting oifname {tun} ip6 saddr {prefix} ct status dnat masquerade");
        }

        if (!routed)
            s.AppendLine(NftDedicatedScript.Ipv6GuardRule());
        s.AppendLine(CultureInfo.InvariantCulture, $"add rule {T} forward ct state established,related accept");
        s.AppendLine(CultureInfo.InvariantCulture, $"add rule {T} forward ct state invalid drop");
        var peerToPeer = network.AllowPeerToPeer ? "accept" : "drop";
        // A mapping lets new inbound through (DESIGN §3 inv. 2): with NAT66 its DNAT did; routed, its lease is a pinhole
        // (peer /128 . protocol . port), the peer's own address and port, untranslated. Both before peer isolation, so
        // another peer reaches a mapped port as IPv4's hairpin does, and nothing else.
        var admitted = routed ? $"{NftScript.KeyOf(Family)} @{NftScript.LeaseSetName}" : "ct status dnat";
        // New inbound connections pass the per-mapping limits first (NftInboundLimitScript), as IPv4's.
        s.AppendLine(NftInboundLimitScript.JumpRule(tun, Family, admitted));
        s.AppendLine(CultureInfo.InvariantCulture, $"add rule {T} forward oifname {tun} {admitted} accept");
        s.AppendLine(CultureInfo.InvariantCulture, $"add rule {T} forward iifname {tun} oifname {tun} {peerToPeer}");
        s.AppendLine(CultureInfo.InvariantCulture, $"add rule {T} forward oifname {tun} drop");
        AppendEgress(s, v6, tun, pub);
        s.AppendLine(CultureInfo.InvariantCulture, $"add rule {T} forward iifname {tun} oifname {pub} accept");
        s.AppendLine(CultureInfo.InvariantCulture, $"add rule {T} forward iifname {tun} drop");

        s.AppendLine(CultureInfo.InvariantCulture, $"add rule {T} input iifname {tun} ct state established,related accept");
        s.AppendLine(CultureInfo.InvariantCulture, $"add rule {T} input iifname {tun} ip6 daddr {gateway} udp dport 5351 accept");
        s.AppendLine(CultureInfo.InvariantCulture, $"add rule {T} input iifname {tun} ip6 daddr {gateway} meta l4proto ipv6-icmp accept");
        s.AppendLine(CultureInfo.InvariantCulture, $"add rule {T} input iifname {tun} drop");
        return s.ToString();
    }

    /// <summary>Deletes the table; adding it first makes the transaction succeed when it is already gone.</summary>
    public static string Uninstall() => $"add table {T}\ndelete table {T}\n";

    private static void AppendEgress(StringBuilder s, GatewayNetwork6 v6, string tun, string pub)
    {
        var rule = new StringBuilder();
        rule.Append(CultureInfo.InvariantCulture, $"add rule {T} forward iifname {tun} oifname {pub} ip6 daddr {{ ");
        rule.AppendJoin(", ", NonPublicDestinations);
        rule.Append(" }");
        var allowed = NftTunnelGuardScript.Outermost(v6.AllowedDestinations);
        if (allowed.Count > 0)
        {
            rule.Append(" ip6 daddr != { ");
            rule.AppendJoin(", ", allowed);
            rule.Append(" }");
        }
        rule.Append(" drop");
        s.AppendLine(rule.ToString());
    }

    private static void Check(GatewayNetwork6 v6)
    {
        if (v6.TunnelPrefix.BaseAddress.AddressFamily != AddressFamily.InterNetworkV6)
            throw new ArgumentException("the IPv6 tunnel prefix must be IPv6", nameof(v6));
        if (v6.GatewayTunnelAddress.AddressFamily != AddressFamily.InterNetworkV6 || !v6.TunnelPrefix.Contains(v6.GatewayTunnelAddress))
            throw new ArgumentException("the gateway's IPv6 tunnel address must lie in the IPv6 tunnel prefix", nameof(v6));
        if (v6.PublicAddresses.Any(a => a.AddressFamily != AddressFamily.InterNetworkV6 || a.ScopeId != 0))
            throw new ArgumentException("public IPv6 addresses must be IPv6 without a zone", nameof(v6));
        if (v6.AllowedDestinations.Any(p => p.BaseAddress.AddressFamily != AddressFamily.InterNetworkV6))
            throw new ArgumentException("allowed IPv6 destinations must be IPv6", nameof(v6));
    }
}
