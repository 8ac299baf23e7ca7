using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Portcullis.Client.PortForwarding;
using Portcullis.PortMapping;

namespace Portcullis.Client.KillSwitch;

/// <summary>
/// The kill switch as nft text: one table of its own, `inet` so one ruleset covers IPv4 and IPv6.
/// Install = "add table; delete table; table { … }" in one transaction, so it replaces any earlier kill switch
/// atomically and a failure anywhere leaves the kernel as it was. Chain order matters:
/// input   — lo; forwarded ports from anywhere but the tunnel dropped (before the LAN allowance, invariant 7);
///           the tunnel's replies, its forwarded ports and the gateway's announcements; the endpoints' replies
///           (conntrack); DHCP; LAN; else drop.
/// output  — lo; the tunnel; marked UDP to each endpoint; DHCP; DNS outside the tunnel dropped (before the LAN
///           allowance: --allow-lan never opens a LAN resolver); LAN; else drop.
/// forward — what the host routes for others (containers, VMs, a LAN behind it), see KillSwitchRuleset.Forward.cs.
/// The forwarded ports live in the sets forwarded_tcp and forwarded_udp, replaced in one transaction of their own
/// when the lease changes (<see cref="UpdateForwardedPorts"/>), so the rules never change while connected.
/// </summary>
public static partial class KillSwitchRuleset
{
    public const string Family = "inet";
    public const string TableName = "portcullis_killswitch";

    /// <summary>
    /// DNS (53) and DNS over TLS/QUIC (853) that would leave outside the tunnel. Only written before a LAN allowance
    /// (everything else outside the tunnel is dropped anyway): a LAN resolver sees every name looked up, in plain text
    /// on 53, and forwards them to the ISP, so --allow-lan opens the LAN to everything but its resolvers.
    /// </summary>
    internal const string DnsOutsideTheTunnelDrop = "\t\tmeta l4proto { tcp, udp } th dport { 53, 853 } drop\n";

    /// <summary>Announcements come from the server's port to the client's (RFC 6887 §7.1, RFC 6886 §3.2.1).</summary>
    public const int AnnounceSourcePort = 5351;
    public const int AnnounceDestinationPort = 5350;

    public static string Install(KillSwitchSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ValidateInterfaceName(spec.TunnelInterface);
        if (spec.Endpoints.Count == 0)
            throw new ArgumentException("a kill switch without an endpoint would leave the tunnel no way out", nameof(spec));
        var tunnel = Quote(spec.TunnelInterface);
        var anyIPv6 = spec.Endpoints.Any(e => e.AddressFamily == AddressFamily.InterNetworkV6)
            || spec.LanPrefixes.Any(p => p.BaseAddress.AddressFamily == AddressFamily.InterNetworkV6);

        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"table {Family} {TableName}\n");
        text.Append(CultureInfo.InvariantCulture, $"delete table {Family} {TableName}\n");
        text.Append(CultureInfo.InvariantCulture, $"table {Family} {TableName} {{\n");
        AppendSet(text, "forwarded_tcp", spec, ForwardProtocol.Tcp);
        AppendSet(text, "forwarded_udp", spec, ForwardProtocol.Udp);

        text.Append("\tchain input {\n\t\ttype filter hook input priority filter; policy drop;\n");
        text.Append("\t\tiifname \"lo\" accept\n");
        text.Append(CultureInfo.InvariantCulture, $"\t\tiifname != {tunnel} tcp dport @forwarded_tcp drop\n");
        text.Append(CultureInfo.InvariantCulture, $"\t\tiifname != {tunnel} udp dport @forwarded_udp drop\n");
        text.Append(CultureInfo.InvariantCulture, $"\t\tiifname {tunnel} ct state established,related accept\n");
        text.Append(CultureInfo.InvariantCulture, $"\t\tiifname {tunnel} tcp dport @forwarded_tcp accept\n");
        text.Append(CultureInfo.InvariantCulture, $"\t\tiifname {tunnel} udp dport @forwarded_udp accept\n");
        foreach (var gateway in (ReadOnlySpan<IPAddress?>)[spec.AnnounceSource, spec.AnnounceSource6])
        {
            if (gateway is not null)
                text.Append(CultureInfo.InvariantCulture, $"\t\tiifname {tunnel} {Ip(gateway)} saddr {gateway} udp sport {AnnounceSourcePort} udp dport {AnnounceDestinationPort} accept\n");
        }
        foreach (var endpoint in spec.Endpoints)
            text.Append(CultureInfo.InvariantCulture, $"\t\t{Ip(endpoint.Address)} saddr {endpoint.Address} udp sport {endpoint.Port} ct state established,related accept\n");
        if (spec.AllowDhcp)
        {
            text.Append("\t\tudp sport 67 udp dport 68 accept\n");
            text.Append("\t\tudp sport 547 udp dport 546 accept\n");
        }
        if (anyIPv6)
            text.Append("\t\ticmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-advert } ip6 hoplimit 255 accept\n");
        foreach (var lan in spec.LanPrefixes)
            text.Append(CultureInfo.InvariantCulture, $"\t\t{Ip(lan.BaseAddress)} saddr {lan} accept\n");
        text.Append("\t}\n");

        text.Append("\tchain output {\n\t\ttype filter hook output priority filter; policy drop;\n");
        text.Append("\t\toifname \"lo\" accept\n");
        text.Append(CultureInfo.InvariantCulture, $"\t\toifname {tunnel} accept\n");
        foreach (var endpoint in spec.Endpoints)
            text.Append(CultureInfo.InvariantCulture, $"\t\tmeta mark {spec.FwMark} {Ip(endpoint.Address)} daddr {endpoint.Address} udp dport {endpoint.Port} accept\n");
        if (spec.AllowDhcp)
        {
            text.Append("\t\tudp sport 68 udp dport 67 accept\n");
            text.Append("\t\tudp sport 546 udp dport 547 accept\n");
        }
        if (anyIPv6)
            text.Append("\t\ticmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit } ip6 hoplimit 255 accept\n");
        if (spec.LanPrefixes.Count > 0)
            text.Append(DnsOutsideTheTunnelDrop);
        foreach (var lan in spec.LanPrefixes)
            text.Append(CultureInfo.InvariantCulture, $"\t\t{Ip(lan.BaseAddress)} daddr {lan} accept\n");
        text.Append("\t}\n");

        AppendForward(text, spec, tunnel);
        text.Append("}\n");
        return text.ToString();
    }

    /// <summary>
    /// Replaces both forwarded-port sets in one transaction: if the table is gone or anything fails, the kernel keeps
    /// what it had. The rules that use the sets are untouched.
    /// </summary>
    public static string UpdateForwardedPorts(IReadOnlyList<ForwardedPort> ports)
    {
        ArgumentNullException.ThrowIfNull(ports);
        var text = new StringBuilder();
        foreach (var (set, protocol) in new[] { ("forwarded_tcp", ForwardProtocol.Tcp), ("forwarded_udp", ForwardProtocol.Udp) })
        {
            text.Append(CultureInfo.InvariantCulture, $"flush set {Family} {TableName} {set}\n");
            var elements = Elements(ports, protocol);
            if (elements.Count > 0)
                text.Append(CultureInfo.InvariantCulture, $"add element {Family} {TableName} {set} {{ {string.Join(", ", elements)} }}\n");
        }
        return text.ToString();
    }

    /// <summary>Removes the table if it is there, and succeeds if it is not (add-then-delete in one transaction).</summary>
    public static string Remove() => $"table {Family} {TableName}\ndelete table {Family} {TableName}\n";

    private static void AppendSet(StringBuilder text, string name, KillSwitchSpec spec, ForwardProtocol protocol)
    {
        var ports = Elements(spec.ForwardedPorts, protocol);
        text.Append(CultureInfo.InvariantCulture, $"\tset {name} {{\n\t\ttype inet_service\n");
        if (ports.Count > 0)
            text.Append(CultureInfo.InvariantCulture, $"\t\telements = {{ {string.Join(", ", ports)} }}\n");
        text.Append("\t}\n");
    }

    private static List<string> Elements(IReadOnlyList<ForwardedPort> ports, ForwardProtocol protocol) =>
        ports.Where(p => p.Protocol == protocol || p.Protocol == ForwardProtocol.Both)
            .Select(p => p.Port.ToString(CultureInfo.InvariantCulture))
            .Distinct()
            .ToList();

    private static string Ip(IPAddress address) => address.AddressFamily == AddressFamily.InterNetworkV6 ? "ip6" : "ip";

    private static string Quote(string name) => $"\"{name}\"";

    /// <summary>Interface names go into nft text inside quotes: only what the kernel allows, and no quote or space.</summary>
    internal static void ValidateInterfaceName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 15 || name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' or '=' or '+')))
            throw new ArgumentException($"'{name}' is not a valid interface name", nameof(name));
    }
}
