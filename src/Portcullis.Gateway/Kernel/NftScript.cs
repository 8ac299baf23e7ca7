using System.Globalization;
using System.Text;
using Portcullis.Gateway.Forwarding;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Kernel;

/// <summary>
/// Formats the nft transactions of <see cref="NftForwardingTable"/> but its element updates (those are netlink:
/// <see cref="NftMappingElements"/>). Pure text; every value was validated by
/// <see cref="ForwardingValidation"/> first.
/// <para>
/// Layout of table <c>ip portcullis</c>: the map <c>mappings</c> holds key → target only, so
/// <c>nft list ruleset</c> shows each mapping as <c>PUBLIC . PROTO . PORT : TUNNEL_ADDRESS . INTERNAL_PORT</c>
/// (DESIGN §6). The set <c>leases</c> holds the same keys with the owner as the element comment and the lease as
/// the element timeout; the DNAT rule requires both, so the kernel ends a lease by itself if the daemon dies,
/// and the owners survive a restart for reconciliation. Remote-peer filters (PCP FILTER) add two sets and a drop rule
/// ahead of the DNAT (<see cref="NftFilterScript"/>). Dedicated addresses add two maps and a set
/// (<see cref="NftDedicatedScript"/>). Where tunnel addresses may appear and what the tunnel reaches is
/// <see cref="NftTunnelGuardScript"/>.
/// </para>
/// </summary>
internal static class NftScript
{
    public const string Family = "ip";
    public const string Table = "portcullis";
    public const string MapName = "mappings";
    public const string LeaseSetName = "leases";
    /// <summary>PCP PEER: TUNNEL . PROTO . INTERNAL_PORT . REMOTE . REMOTE_PORT : PUBLIC . PUBLIC_PORT (SNAT of that one flow).</summary>
    public const string PeerMapName = "peers";
    private static readonly string Key = KeyOf(Family);

    /// <summary>
    /// One transaction: create what is missing, empty and refill the chains; the map and set are created if absent and
    /// otherwise left with their elements (reconciliation decides about those).
    /// </summary>
    public static string Install(GatewayNetwork network)
    {
        var tun = Quote(network.TunnelInterface);
        var pub = Quote(network.PublicInterface);
        var prefix = network.TunnelPrefix.ToString();
        var t = $"{Family} {Table}";
        var s = new StringBuilder();
        s.AppendLine(CultureInfo.InvariantCulture, $"add table {t}");
        AppendMappingDeclarations(s, Family);
        NftDedicatedScript.AppendDeclarations(s);
        NftFilterScript.AppendDeclarations(s);
        // PEER mappings (NftPeerElements) are kept like the mappings and listed back (NftPeerScript): reconciliation decides.
        s.AppendLine(CultureInfo.InvariantCulture,
            $"add map {t} {PeerMapName} {{ type ipv4_addr . inet_proto . inet_service . ipv4_addr . inet_service : ipv4_addr . inet_service; flags timeout; }}");
        s.AppendLine(CultureInfo.InvariantCulture, $"add chain {t} prerouting {{ type nat hook prerouting priority dstnat; policy accept; }}");
        s.AppendLine(CultureInfo.InvariantCulture, $"add chain {t} postrouting {{ type nat hook postrouting priority srcnat; policy accept; }}");
        s.AppendLine(CultureInfo.InvariantCulture, $"add chain {t} forward {{ type filter hook forward priority filter; policy accept; }}");
        s.AppendLine(CultureInfo.InvariantCulture, $"add chain {t} input {{ type filter hook input priority filter; policy accept; }}");
        s.AppendLine(CultureInfo.InvariantCulture, $"add chain {t} output {{ type nat hook output priority -100; policy accept; }}");
        s.AppendLine(CultureInfo.InvariantCulture, $"flush chain {t} output");
        s.AppendLine(CultureInfo.InvariantCulture, $"flush chain {t} input");
        s.AppendLine(CultureInfo.InvariantCulture, $"flush chain {t} prerouting");
        s.AppendLine(CultureInfo.InvariantCulture, $"flush chain {t} postrouting");
        s.AppendLine(CultureInfo.InvariantCulture, $"flush chain {t} forward");
        NftTunnelGuardScript.AppendDeclarations(s);
        NftInboundLimitScript.AppendDeclarations(s, network.InboundLimits);
        NftTunnelGuardScript.AppendGuard(s, network, tun);

        // A port the gateway itself listens on (its WireGuard port — which clients of a dedicated peer reach on that
        // address — or an SSH daemon) stays the gateway's: neither a mapping nor every-port forwarding takes it.
        s.AppendLine(CultureInfo.InvariantCulture,
            $"add rule {t} prerouting iifname {{ {pub}, {tun} }} meta l4proto {{ tcp, udp }} fib daddr type local socket transparent 0 accept");

        // A mapping with remote-peer filters (PCP FILTER) is dark to every other source (NftFilterScript).
        s.AppendLine(NftFilterScript.DropRule($"{pub}, {tun}"));
        // Inbound from the internet, and hairpin from the tunnel: a leased key is DNATed to its target.
        s.AppendLine(DnatRule(Family, $"iifname {{ {pub}, {tun} }}"));
        // The gateway's own reachability probes (marked sockets, Reachability/MappingProbe.cs) take the same element.
        s.AppendLine(CultureInfo.InvariantCulture,
            $"add rule {t} output meta mark {Reachability.MappingProbe.Mark} meta l4proto {{ tcp, udp }} {Key} @{LeaseSetName} dnat ip to {Key} map @{MapName}");
        // Then "every port" of a dedicated address (after the per-port map, which a DNAT ends), minus blocked ports.
        s.AppendLine(CultureInfo.InvariantCulture,
            $"add rule {t} prerouting iifname {{ {pub}, {tun} }} meta l4proto {{ tcp, udp }} th dport != @{NftDedicatedScript.ExcludedSet} dnat ip to ip daddr map @{NftDedicatedScript.InboundMap}");

        // A flow a client asked for by PCP PEER leaves from exactly the answered address:port (ahead of the others).
        s.AppendLine(CultureInfo.InvariantCulture,
            $"add rule {t} postrouting oifname {pub} ip saddr {prefix} snat ip to ip saddr . meta l4proto . th sport . ip daddr . th dport map @{PeerMapName}");
        // Egress of the clients appears from their dedicated address if they have one, else from the first public
        // address; hairpinned flows appear from the gateway's tunnel address so the reply returns through the gateway
        // instead of going peer to peer.
        s.AppendLine(CultureInfo.InvariantCulture,
            $"add rule {t} postrouting oifname {pub} ip saddr {prefix} snat ip to ip saddr map @{NftDedicatedScript.EgressMap}");
        s.AppendLine(CultureInfo.InvariantCulture,
            $"add rule {t} postrouting oifname {pub} ip saddr {prefix} snat ip to {network.PublicAddresses[0]}");
        s.AppendLine(CultureInfo.InvariantCulture,
            $"add rule {t} postrouting oifname {tun} ip saddr {prefix} ct status dnat masquerade");

        // Forward: a dedicated address carries only its owner's flows; then replies and DNATed flows pass; anything
        // else toward the tunnel is dropped (DESIGN §3 inv. 2).
        s.AppendLine(NftDedicatedScript.GuardRule());
        s.AppendLine(CultureInfo.InvariantCulture, $"add rule {t} forward ct state established,related accept");
        s.AppendLine(CultureInfo.InvariantCulture, $"add rule {t} forward ct state invalid drop");
        // New inbound connections pass the per-forward limits first (NftInboundLimitScript).
        s.AppendLine(NftInboundLimitScript.JumpRule(tun));
        s.AppendLine(CultureInfo.InvariantCulture, $"add rule {t} forward oifname {tun} ct status dnat accept");
        var peerToPeer = network.AllowPeerToPeer ? "accept" : "drop";
        s.AppendLine(CultureInfo.InvariantCulture, $"add rule {t} forward iifname {tun} oifname {tun} {peerToPeer}");
        s.AppendLine(CultureInfo.InvariantCulture, $"add rule {t} forward oifname {tun} drop");
        s.AppendLine(CultureInfo.InvariantCulture, $"add rule {t} forward iifname {pub} ip daddr {prefix} drop");
        NftTunnelGuardScript.AppendEgress(s, network, tun, pub);
        s.AppendLine(CultureInfo.InvariantCulture, $"add rule {t} forward iifname {tun} oifname {pub} accept");
        // Only the public interface: the tunnel must not reach the gateway's other networks (management, LAN).
        s.AppendLine(CultureInfo.InvariantCulture, $"add rule {t} forward iifname {tun} drop");

        NftTunnelGuardScript.AppendInput(s, network, tun);
        return s.ToString();
    }

    /// <summary>
    /// The map of mappings and the set of leases of <paramref name="family"/>'s table, created if absent (their
    /// elements are reconciliation's to decide about).
    /// </summary>
    public static void AppendMappingDeclarations(StringBuilder s, string family)
    {
        var address = family == Family ? "ipv4_addr" : "ipv6_addr";
        s.AppendLine(CultureInfo.InvariantCulture,
            $"add map {family} {Table} {MapName} {{ type {address} . inet_proto . inet_service : {address} . inet_service; }}");
        s.AppendLine(CultureInfo.InvariantCulture,
            $"add set {family} {Table} {LeaseSetName} {{ type {address} . inet_proto . inet_service; flags timeout; }}");
    }

    /// <summary>A leased key arriving on <paramref name="from"/> is DNATed to its target (inbound, and hairpin).</summary>
    public static string DnatRule(string family, string from)
    {
        var key = KeyOf(family);
        return $"add rule {family} {Table} prerouting {from} meta l4proto {{ tcp, udp }} {key} @{LeaseSetName} dnat {family} to {key} map @{MapName}";
    }

    /// <summary>A packet's mapping key in <paramref name="family"/>: destination . protocol . destination port.</summary>
    public static string KeyOf(string family) => $"{family} daddr . meta l4proto . th dport";

    /// <summary>Deletes the table; adding it first makes the transaction succeed when it is already gone.</summary>
    public static string Uninstall() => $"add table {Family} {Table}\ndelete table {Family} {Table}\n";

    public static string ListMap(string family = Family) => $"list map {family} {Table} {MapName}";

    public static string ListLeases(string family = Family) => $"list set {family} {Table} {LeaseSetName}";

    public static string ProtocolName(MappingProtocol protocol) => protocol == MappingProtocol.Tcp ? "tcp" : "udp";

    // Callers validated the text against a charset without quotes or backslashes.
    private static string Quote(string text) => $"\"{text}\"";
}
