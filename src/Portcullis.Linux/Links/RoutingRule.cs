using System.Net.Sockets;

namespace Portcullis.Linux.Links;

/// <summary>
/// A policy-routing rule ("lookup TABLE" action). wg-quick's pair for a full tunnel is
/// <c>new RoutingRule { Family = InterNetwork, Not = true, FwMark = 51820, Table = 51820 }</c> and
/// <c>new RoutingRule { Family = InterNetwork, Table = 254, SuppressPrefixLength = 0 }</c>.
/// </summary>
public sealed record RoutingRule
{
    /// <summary>InterNetwork or InterNetworkV6.</summary>
    public required AddressFamily Family { get; init; }

    /// <summary>The table looked up. Defaults to main (254).</summary>
    public int Table { get; init; } = Link.MainTable;

    /// <summary>Match packets with this fwmark (all bits unless <see cref="FwMask"/> is set).</summary>
    public uint? FwMark { get; init; }

    public uint? FwMask { get; init; }

    /// <summary>Invert the match ("not fwmark ...").</summary>
    public bool Not { get; init; }

    /// <summary>Ignore routes from the table whose prefix is this long or shorter (0 skips default routes).</summary>
    public int? SuppressPrefixLength { get; init; }

    /// <summary>Rule priority; the kernel picks one below the lowest existing when unset.</summary>
    public int? Priority { get; init; }

    public override string ToString() =>
        $"{(Family == AddressFamily.InterNetworkV6 ? "-6" : "-4")} rule{(Not ? " not" : "")}"
        + (FwMark is uint mark ? $" fwmark {mark}{(FwMask is uint mask ? $"/{mask}" : "")}" : " from all")
        + $" table {Table}"
        + (SuppressPrefixLength is int suppress ? $" suppress_prefixlength {suppress}" : "")
        + (Priority is int priority ? $" priority {priority}" : "");
}
