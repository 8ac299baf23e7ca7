using System.Globalization;
using System.Text;

namespace Portcullis.Gateway.Kernel;

/// <summary>
/// Remote-peer filters (PCP FILTER, RFC 6887 §13.3), the same in table <c>ip portcullis</c> and <c>ip6 portcullis</c>
/// (each with its family's addresses):
/// <list type="bullet">
/// <item>set <c>filtered</c>: the keys (<c>public . proto . port</c>) of the mappings that have filters — with a routed
/// IPv6 prefix the key is the peer's own /128, as the pinhole's;</item>
/// <item>set <c>admitted</c>: <c>public . proto . port . remote prefix . remote port range</c> (interval), one element
/// per filter, remote port 0 written as 0-65535;</item>
/// <item>one prerouting rule ahead of the DNAT: a new connection to a filtered key from a source no element admits is
/// dropped, so the mapping stays dark to it (and "every port" of a dedicated address does not take it either).</item>
/// </list>
/// Elements carry the mapping's lease as timeout (the key a second longer, so a key never outlives its admissions
/// unfiltered) and are written in the mapping's own transaction (<see cref="NftFilterElements"/>): removed with it,
/// replaced on a refresh that names new filters.
/// </summary>
internal static class NftFilterScript
{
    public const string FilteredSet = "filtered";
    public const string AdmittedSet = "admitted";

    // The key outlives its admissions: an element expiring first leaves the mapping dark, never open to everyone.
    public static readonly TimeSpan KeyMargin = TimeSpan.FromSeconds(1);

    public static void AppendDeclarations(StringBuilder s, string family = NftScript.Family)
    {
        var t = $"{family} {NftScript.Table}";
        var address = family == NftScript.Family ? "ipv4_addr" : "ipv6_addr";
        s.AppendLine(CultureInfo.InvariantCulture,
            $"add set {t} {FilteredSet} {{ type {address} . inet_proto . inet_service; flags timeout; }}");
        s.AppendLine(CultureInfo.InvariantCulture,
            $"add set {t} {AdmittedSet} {{ type {address} . inet_proto . inet_service . {address} . inet_service; flags interval, timeout; }}");
    }

    /// <summary>The rule that must come before the mappings' DNAT (or, routed, the pinholes' accept) in prerouting.</summary>
    public static string DropRule(string interfaces, string family = NftScript.Family)
    {
        var key = NftScript.KeyOf(family);
        return $"add rule {family} {NftScript.Table} prerouting iifname {{ {interfaces} }} meta l4proto {{ tcp, udp }} "
            + $"{key} @{FilteredSet} {key} . {family} saddr . th sport != @{AdmittedSet} drop";
    }

    public static string ListAdmitted(string family = NftScript.Family) => $"list set {family} {NftScript.Table} {AdmittedSet}";
}
