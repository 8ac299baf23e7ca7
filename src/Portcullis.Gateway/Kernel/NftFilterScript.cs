using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Portcullis.Gateway.Forwarding;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Kernel;

/// <summary>
/// Remote-peer filters (PCP FILTER, RFC 6887 §13.3) in table <c>ip portcullis</c>:
/// <list type="bullet">
/// <item>set <c>filtered</c>: the keys (<c>public . proto . port</c>) of the mappings that have filters;</item>
/// <item>set <c>admitted</c>: <c>public . proto . port . remote prefix . remote port range</c> (interval), one element
/// per filter, remote port 0 written as 0-65535;</item>
/// <item>one prerouting rule ahead of the DNAT: a new connection to a filtered key from a source no element admits is
/// dropped, so the mapping stays dark to it (and "every port" of a dedicated address does not take it either).</item>
/// </list>
/// Elements carry the mapping's lease as timeout (the key a second longer, so a key never outlives its admissions
/// unfiltered) and are written in the mapping's own transaction: removed with it, replaced on a refresh that names new
/// filters. Only IPv4 entries: the ip6 table is another writer's script.
/// </summary>
internal static class NftFilterScript
{
    public const string FilteredSet = "filtered";
    public const string AdmittedSet = "admitted";
    private const string Key = "ip daddr . meta l4proto . th dport";

    // The key outlives its admissions: an element expiring first leaves the mapping dark, never open to everyone.
    private static readonly TimeSpan KeyMargin = TimeSpan.FromSeconds(1);

    public static void AppendDeclarations(StringBuilder s)
    {
        var t = $"{NftScript.Family} {NftScript.Table}";
        s.AppendLine(CultureInfo.InvariantCulture,
            $"add set {t} {FilteredSet} {{ type ipv4_addr . inet_proto . inet_service; flags timeout; }}");
        s.AppendLine(CultureInfo.InvariantCulture,
            $"add set {t} {AdmittedSet} {{ type ipv4_addr . inet_proto . inet_service . ipv4_addr . inet_service; flags interval, timeout; }}");
    }

    /// <summary>The rule that must come before the mappings' DNAT in prerouting.</summary>
    public static string DropRule(string interfaces) =>
        $"add rule {NftScript.Family} {NftScript.Table} prerouting iifname {{ {interfaces} }} meta l4proto {{ tcp, udp }} "
        + $"{Key} @{FilteredSet} {Key} . ip saddr . th sport != @{AdmittedSet} drop";

    /// <summary>
    /// Appends, for one Update transaction, the removal of every filter element of <paramref name="remove"/> (made
    /// idempotent, as the map's deletes are, by adding each first) and then the elements of <paramref name="add"/>.
    /// </summary>
    public static void AppendUpdate(StringBuilder s, IReadOnlyCollection<ForwardingEntry> remove, IReadOnlyCollection<ForwardingEntry> add)
    {
        var gone = Filtered(remove);
        var come = Filtered(add);
        if (gone.Count == 0 && come.Count == 0)
            return;
        var t = $"{NftScript.Family} {NftScript.Table}";
        NftScript.AppendElements(s, "add", t, FilteredSet, gone, NftScript.AppendKey);
        NftScript.AppendElements(s, "add", t, AdmittedSet, gone, static (b, e) => AppendAdmitted(b, e, null));
        NftScript.AppendElements(s, "delete", t, FilteredSet, gone, NftScript.AppendKey);
        NftScript.AppendElements(s, "delete", t, AdmittedSet, gone, static (b, e) => AppendAdmitted(b, e, null));
        NftScript.AppendElements(s, "add", t, AdmittedSet, come, static (b, e) => AppendAdmitted(b, e, e.Timeout));
        NftScript.AppendElements(s, "add", t, FilteredSet, come, static (b, e) =>
        {
            NftScript.AppendKey(b, e);
            AppendTimeout(b, e.Timeout + KeyMargin);
        });
    }

    public static string ListAdmitted() => $"list set {NftScript.Family} {NftScript.Table} {AdmittedSet}";

    private static List<ForwardingEntry> Filtered(IReadOnlyCollection<ForwardingEntry> entries) =>
        entries.Where(e => e.Filters.Count > 0 && e.PublicAddress.AddressFamily == AddressFamily.InterNetwork).ToList();

    // Every filter of the entry, minus those another covers: the interval set refuses an element inside another.
    private static void AppendAdmitted(StringBuilder s, ForwardingEntry e, TimeSpan? timeout)
    {
        var first = true;
        foreach (var filter in RemoteFilter.Minimal(e.Filters))
        {
            if (!first)
                s.Append(", ");
            first = false;
            NftScript.AppendKey(s, e);
            s.Append(CultureInfo.InvariantCulture, $" . {filter.Prefix}");
            s.Append(filter.Port == 0 ? " . 0-65535" : string.Create(CultureInfo.InvariantCulture, $" . {filter.Port}"));
            AppendTimeout(s, timeout);
        }
    }

    private static void AppendTimeout(StringBuilder s, TimeSpan? timeout)
    {
        if (timeout is { } t)
            s.Append(CultureInfo.InvariantCulture, $" timeout {(long)Math.Ceiling(t.TotalMilliseconds)}ms");
    }
}
