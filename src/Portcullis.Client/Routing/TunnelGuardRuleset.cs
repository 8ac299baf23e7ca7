using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Portcullis.Client.Routing;

/// <summary>
/// wg-quick's nftables companion to a full tunnel, one table per interface:
/// preraw     — a packet for the tunnel address arriving on any other interface, from a non-local source, is
///              dropped (else a LAN neighbour could reach services bound to the tunnel address around the tunnel);
/// postmangle — the device's marked UDP saves its mark into conntrack;
/// premangle  — replies get it back, so reverse-path filtering (src_valid_mark) accepts them.
/// Installed as "add; delete; define" in one transaction, as the kill switch is.
/// </summary>
public static class TunnelGuardRuleset
{
    public static string TableName(string interfaceName)
    {
        ArgumentNullException.ThrowIfNull(interfaceName);
        var safe = new StringBuilder("portcullis_tunnel_");
        foreach (var c in interfaceName)
            safe.Append(char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-' ? c : '_');
        return safe.ToString();
    }

    /// <summary>The ruleset for <paramref name="plan"/>, or null when it is not a full tunnel (wg-quick adds none then).</summary>
    public static string? Install(RoutePlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        if (!plan.FullTunnel4 && !plan.FullTunnel6)
            return null;
        KillSwitch.KillSwitchRuleset.ValidateInterfaceName(plan.Interface);
        var table = TableName(plan.Interface);
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"table inet {table}\ndelete table inet {table}\ntable inet {table} {{\n");
        text.Append("\tchain preraw {\n\t\ttype filter hook prerouting priority raw;\n");
        foreach (var address in plan.Addresses)
        {
            var v6 = address.Address.AddressFamily == AddressFamily.InterNetworkV6;
            if (v6 ? !plan.FullTunnel6 : !plan.FullTunnel4)
                continue;
            text.Append(CultureInfo.InvariantCulture, $"\t\tiifname != \"{plan.Interface}\" {(v6 ? "ip6" : "ip")} daddr {address.Address} fib saddr type != local drop\n");
        }
        text.Append("\t}\n");
        text.Append("\tchain premangle {\n\t\ttype filter hook prerouting priority mangle;\n\t\tmeta l4proto udp meta mark set ct mark\n\t}\n");
        text.Append(CultureInfo.InvariantCulture, $"\tchain postmangle {{\n\t\ttype filter hook postrouting priority mangle;\n\t\tmeta l4proto udp meta mark {plan.FwMark} ct mark set meta mark\n\t}}\n");
        text.Append("}\n");
        return text.ToString();
    }

    public static string Remove(string interfaceName)
    {
        var table = TableName(interfaceName);
        return $"table inet {table}\ndelete table inet {table}\n";
    }
}
