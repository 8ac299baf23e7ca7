using System.Net;
using Portcullis.Client.Config;
using Portcullis.Linux.Links;

namespace Portcullis.Client.Routing;

/// <summary>A route through the tunnel interface into <paramref name="Table"/>.</summary>
public sealed record PlannedRoute(IPNetwork Destination, int Table)
{
    public override string ToString() => $"{Destination} table {Table}";
}

/// <summary>
/// Everything <c>connect</c> does to the routing of the host, computed before anything is touched, so it can be
/// checked in a unit test, applied in order and undone in reverse.
/// </summary>
public sealed record RoutePlan
{
    public required string Interface { get; init; }

    public required int Mtu { get; init; }

    public IReadOnlyList<InterfaceAddress> Addresses { get; init; } = [];

    /// <summary>Most specific first, as wg-quick adds them.</summary>
    public IReadOnlyList<PlannedRoute> Routes { get; init; } = [];

    /// <summary>Policy rules in the order they are added (the kernel puts each new one in front of the last).</summary>
    public IReadOnlyList<RoutingRule> Rules { get; init; } = [];

    /// <summary>The SO_MARK of the encrypted packets: what lets them skip the tunnel's table.</summary>
    public required uint FwMark { get; init; }

    /// <summary>IPv4 default route through the tunnel (AllowedIPs holds 0.0.0.0/0).</summary>
    public bool FullTunnel4 { get; init; }

    /// <summary>IPv6 default route through the tunnel (AllowedIPs holds ::/0).</summary>
    public bool FullTunnel6 { get; init; }

    /// <summary>
    /// net.ipv4.conf.all.src_valid_mark=1, as wg-quick sets for an IPv4 full tunnel: reverse-path filtering then
    /// takes the mark into account, so replies to the marked encrypted packets are not dropped.
    /// </summary>
    public bool SetSourceValidMark => FullTunnel4;
}
