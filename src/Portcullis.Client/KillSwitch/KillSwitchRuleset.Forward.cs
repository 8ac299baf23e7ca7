using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Portcullis.Client.KillSwitch;

/// <summary>
/// The forward chain: traffic this host routes for others — containers, VMs, a LAN routed through it. Without it,
/// their packets leave by the physical link whenever the tunnel's routes are missing (before they exist, after a
/// SIGKILL took the TUN device and its routes, with --persistent after exit). It fails closed like the rest:
///   1. a forwarded port DNATed to a guest (docker -p, a VM) is dropped when a connection to it opens from anywhere
///      but the tunnel (invariant 7);
///   2. anything routed into the tunnel passes — the only way out — and the tunnel's replies come back;
///   3. a forwarded port arriving on the tunnel may be DNATed on to a guest;
///   4. with --allow-lan, local networks reach each other (guest ↔ LAN, guest ↔ guest), but not their resolvers;
///   5. everything else is dropped, IPv4 and IPv6.
/// The kill switch does not NAT: the gateway accepts only this client's tunnel address, so guests reach the
/// internet through the tunnel only when the host masquerades them on it (Docker and libvirt masquerade on every
/// outgoing interface; a hand-made LAN masquerade must cover the tunnel interface too).
/// </summary>
public static partial class KillSwitchRuleset
{
    private static void AppendForward(StringBuilder text, KillSwitchSpec spec, string tunnel)
    {
        text.Append("\tchain forward {\n\t\ttype filter hook forward priority filter; policy drop;\n");
        // Original direction only: the guest's replies to a connection that came through the tunnel carry the same
        // conntrack status and original port, and must pass.
        text.Append(CultureInfo.InvariantCulture, $"\t\tiifname != {tunnel} ct direction original ct status dnat meta l4proto tcp ct original proto-dst @forwarded_tcp drop\n");
        text.Append(CultureInfo.InvariantCulture, $"\t\tiifname != {tunnel} ct direction original ct status dnat meta l4proto udp ct original proto-dst @forwarded_udp drop\n");
        text.Append(CultureInfo.InvariantCulture, $"\t\toifname {tunnel} accept\n");
        text.Append(CultureInfo.InvariantCulture, $"\t\tiifname {tunnel} ct state established,related accept\n");
        text.Append(CultureInfo.InvariantCulture, $"\t\tiifname {tunnel} ct status dnat meta l4proto tcp ct original proto-dst @forwarded_tcp accept\n");
        text.Append(CultureInfo.InvariantCulture, $"\t\tiifname {tunnel} ct status dnat meta l4proto udp ct original proto-dst @forwarded_udp accept\n");
        if (spec.LanPrefixes.Count > 0)
            text.Append(DnsOutsideTheTunnelDrop);
        AppendBetween(text, "ip", spec.LanPrefixes.Where(p => p.BaseAddress.AddressFamily == AddressFamily.InterNetwork).ToList());
        AppendBetween(text, "ip6", spec.LanPrefixes.Where(p => p.BaseAddress.AddressFamily == AddressFamily.InterNetworkV6).ToList());
        text.Append("\t}\n");
    }

    /// <summary>From any of the prefixes to any of them (one family).</summary>
    private static void AppendBetween(StringBuilder text, string family, List<IPNetwork> prefixes)
    {
        if (prefixes.Count == 0)
            return;
        var set = string.Join(", ", prefixes);
        text.Append(CultureInfo.InvariantCulture, $"\t\t{family} saddr {{ {set} }} {family} daddr {{ {set} }} accept\n");
    }
}
