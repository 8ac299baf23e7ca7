using System.Runtime.InteropServices;

namespace Portcullis.Linux.Links;

public static partial class Link
{
    private const int FibRuleHeaderSize = 12;

    /// <summary>Adds a policy-routing rule, as <c>ip rule add ...</c>.</summary>
    public static void AddRule(RoutingRule rule) =>
        ChangeRule(RtNetlink.NewRule, RtNetlink.FlagCreate | RtNetlink.FlagExclusive, rule, "add");

    /// <summary>Deletes the first rule matching every field that <paramref name="rule"/> sets, as <c>ip rule del ...</c>.</summary>
    public static void DeleteRule(RoutingRule rule) => ChangeRule(RtNetlink.DeleteRule, 0, rule, "delete");

    private static void ChangeRule(ushort type, ushort flags, RoutingRule rule, string verb)
    {
        ArgumentNullException.ThrowIfNull(rule);
        ArgumentOutOfRangeException.ThrowIfLessThan(rule.Table, 1);
        var operation = $"{verb} {rule}";

        var request = new NetlinkRequest(type, flags);
        var header = request.Append(FibRuleHeaderSize);
        header[0] = FamilyOf(rule.Family);
        header[4] = rule.Table < 256 ? (byte)rule.Table : (byte)0;
        header[7] = RtNetlink.FrActToTable;
        var ruleFlags = rule.Not ? RtNetlink.FibRuleInvert : 0u;
        MemoryMarshal.Write(header[8..], in ruleFlags);
        request.AddUInt32(RtNetlink.FraTable, (uint)rule.Table);
        if (rule.FwMark is uint mark)
            request.AddUInt32(RtNetlink.FraFwMark, mark);
        if (rule.FwMask is uint mask)
            request.AddUInt32(RtNetlink.FraFwMask, mask);
        if (rule.SuppressPrefixLength is int suppress)
            request.AddUInt32(RtNetlink.FraSuppressPrefixLength, (uint)suppress);
        if (rule.Priority is int priority)
            request.AddUInt32(RtNetlink.FraPriority, (uint)priority);
        NetlinkSocket.Execute(request, operation);
    }
}
