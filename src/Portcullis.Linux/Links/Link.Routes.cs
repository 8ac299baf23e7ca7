using System.Net;

namespace Portcullis.Linux.Links;

public static partial class Link
{
    private const int RtMsgSize = 12;

    /// <summary>The main routing table (what <c>ip route</c> shows by default).</summary>
    public const int MainTable = 254;

    /// <summary>
    /// Adds a unicast route, as <c>ip route add DESTINATION [via GATEWAY] dev DEVICE table TABLE</c>.
    /// Without a gateway the route is on-link (scope link).
    /// </summary>
    public static void AddRoute(IPNetwork destination, string device, int table = MainTable, IPAddress? gateway = null) =>
        ChangeRoute(RtNetlink.NewRoute, RtNetlink.FlagCreate | RtNetlink.FlagExclusive, destination, device, table, gateway, "add");

    /// <summary>Deletes the route added by the same arguments.</summary>
    public static void DeleteRoute(IPNetwork destination, string device, int table = MainTable, IPAddress? gateway = null) =>
        ChangeRoute(RtNetlink.DeleteRoute, 0, destination, device, table, gateway, "delete");

    private static void ChangeRoute(ushort type, ushort flags, IPNetwork destination, string device, int table, IPAddress? gateway, string verb)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(table, 1);
        var family = FamilyOf(destination.BaseAddress);
        if (gateway is not null && FamilyOf(gateway) != family)
            throw new ArgumentException($"Gateway {gateway} is not of the same family as {destination}.", nameof(gateway));
        var operation = $"{verb} route {destination}{(gateway is null ? "" : $" via {gateway}")} dev {device} table {table}";
        var index = IndexOf(device, operation);

        var request = new NetlinkRequest(type, flags);
        var header = request.Append(RtMsgSize);
        header[0] = family;
        header[1] = (byte)destination.PrefixLength;
        // Tables above 255 only fit the RTA_TABLE attribute; rtm_table then says RT_TABLE_UNSPEC.
        header[4] = table < 256 ? (byte)table : (byte)0;
        if (type == RtNetlink.NewRoute)
        {
            header[5] = RtNetlink.RtprotBoot;
            header[6] = gateway is null ? RtNetlink.ScopeLink : RtNetlink.ScopeUniverse;
            header[7] = RtNetlink.RtnUnicast;
        }
        else
        {
            // As iproute2: on delete, scope "nowhere" and type unset match any route with these keys.
            header[6] = RtNetlink.ScopeNowhere;
        }
        request.AddUInt32(RtNetlink.RtaTable, (uint)table);
        if (destination.PrefixLength > 0)
            request.AddAddress(RtNetlink.RtaDestination, destination.BaseAddress);
        if (gateway is not null)
            request.AddAddress(RtNetlink.RtaGateway, gateway);
        request.AddUInt32(RtNetlink.RtaOutputInterface, (uint)index);
        NetlinkSocket.Execute(request, operation);
    }
}
