using System.Globalization;
using System.Text;
using Portcullis.Gateway.Forwarding;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Kernel;

/// <summary>
/// Formats the nft transactions of <see cref="NftForwardingTable"/>. Pure text; every value was validated by
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
    private const string Key = "ip daddr . meta l4proto . th dport";

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
        s.AppendLine(CultureInfo.InvariantCulture,
            $"add map {t} {MapName} {{ type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service; }}");
        s.AppendLine(CultureInfo.InvariantCulture,
            $"add set {t} {LeaseSetName} {{ type ipv4_addr . inet_proto . inet_service; flags timeout; }}");
        NftDedicatedScript.AppendDeclarations(s);
        NftFilterScript.AppendDeclarations(s);
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
        s.AppendLine(CultureInfo.InvariantCulture,
            $"add rule {t} prerouting iifname {{ {pub}, {tun} }} meta l4proto {{ tcp, udp }} {Key} @{LeaseSetName} dnat ip to {Key} map @{MapName}");
        // The gateway's own reachability probes (marked sockets, Reachability/MappingProbe.cs) take the same element.
        s.AppendLine(CultureInfo.InvariantCulture,
            $"add rule {t} output meta mark {Reachability.MappingProbe.Mark} meta l4proto {{ tcp, udp }} {Key} @{LeaseSetName} dnat ip to {Key} map @{MapName}");
        // Then "every port" of a dedicated address (after the per-port map, which a DNAT ends), minus blocked ports.
        s.AppendLine(CultureInfo.InvariantCulture,
            $"add rule {t} prerouting iifname {{ {pub}, {tun} }} meta l4proto {{ tcp, udp }} th dport != @{NftDedicatedScript.ExcludedSet} dnat ip to ip daddr map @{NftDedicatedScript.InboundMap}");

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
    /// One transaction removing <paramref name="remove"/> and adding <paramref name="add"/>. Deletes are made
    /// idempotent by adding the element first (a no-op when it exists with that value; a conflict, and so a failed
    /// transaction, when the kernel maps the key elsewhere). Every added key's lease is deleted and added again, which
    /// restarts its timeout and replaces its owner (PROTOCOLS.md: refresh = delete + add in one transaction).
    /// Returns an empty string when there is nothing to do.
    /// </summary>
    public static string Update(IReadOnlyCollection<ForwardingEntry> remove, IReadOnlyCollection<ForwardingEntry> add)
    {
        var t = $"{Family} {Table}";
        var s = new StringBuilder();
        var leaseKeys = new HashSet<(System.Net.IPAddress, MappingProtocol, ushort)>();
        var purge = new List<ForwardingEntry>(remove.Count + add.Count);
        foreach (var entry in remove)
        {
            if (leaseKeys.Add(entry.Key))
                purge.Add(entry);
        }
        foreach (var entry in add)
        {
            if (leaseKeys.Add(entry.Key))
                purge.Add(entry);
        }

        AppendElements(s, "add", t, MapName, remove, AppendMapping);
        AppendElements(s, "add", t, LeaseSetName, purge, AppendKey);
        AppendElements(s, "delete", t, MapName, remove, AppendKey);
        AppendElements(s, "delete", t, LeaseSetName, purge, AppendKey);
        AppendElements(s, "add", t, MapName, add, AppendMapping);
        AppendElements(s, "add", t, LeaseSetName, add, AppendLease);
        NftFilterScript.AppendUpdate(s, remove, add);
        return s.ToString();
    }

    /// <summary>Deletes the table; adding it first makes the transaction succeed when it is already gone.</summary>
    public static string Uninstall() => $"add table {Family} {Table}\ndelete table {Family} {Table}\n";

    public static string ListMap() => $"list map {Family} {Table} {MapName}";

    public static string ListLeases() => $"list set {Family} {Table} {LeaseSetName}";

    public static string ProtocolName(MappingProtocol protocol) => protocol == MappingProtocol.Tcp ? "tcp" : "udp";

    internal static void AppendElements(
        StringBuilder s, string verb, string table, string set, IReadOnlyCollection<ForwardingEntry> entries,
        Action<StringBuilder, ForwardingEntry> element)
    {
        if (entries.Count == 0)
            return;
        s.Append(CultureInfo.InvariantCulture, $"{verb} element {table} {set} {{ ");
        var first = true;
        foreach (var entry in entries)
        {
            if (!first)
                s.Append(", ");
            first = false;
            element(s, entry);
        }
        s.Append(" }\n");
    }

    internal static void AppendKey(StringBuilder s, ForwardingEntry e) =>
        s.Append(CultureInfo.InvariantCulture, $"{e.PublicAddress} . {ProtocolName(e.Protocol)} . {e.PublicPort}");

    private static void AppendMapping(StringBuilder s, ForwardingEntry e)
    {
        AppendKey(s, e);
        s.Append(CultureInfo.InvariantCulture, $" : {e.TunnelAddress} . {e.InternalPort}");
    }

    private static void AppendLease(StringBuilder s, ForwardingEntry e)
    {
        AppendKey(s, e);
        if (e.Timeout is { } timeout)
            s.Append(CultureInfo.InvariantCulture, $" timeout {(long)Math.Ceiling(timeout.TotalMilliseconds)}ms");
        s.Append(CultureInfo.InvariantCulture, $" comment {Quote(e.Owner)}");
    }

    // Callers validated the text against a charset without quotes or backslashes.
    private static string Quote(string text) => $"\"{text}\"";
}
