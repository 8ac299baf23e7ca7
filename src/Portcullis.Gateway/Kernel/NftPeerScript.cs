using System.Globalization;
using System.Text;
using Portcullis.Gateway.Forwarding;

namespace Portcullis.Gateway.Kernel;

/// <summary>
/// The <c>ip6</c> side of PCP PEER and the listing of both families' <see cref="NftScript.PeerMapName"/> maps (the
/// <c>ip</c> map and its rule are in <see cref="NftScript.Install"/>).
/// <list type="bullet">
/// <item>With IPv6 the <c>ip6</c> table holds a peers map of IPv6 addresses, kept over a reinstall like the mappings
/// (reconciliation decides about its elements); with NAT66 a rule at the head of <c>postrouting</c> SNATs exactly the
/// flows it names to their answered public address and port, ahead of the catch-all SNAT66. Routed prefixes translate
/// nothing: a PEER is answered with the peer's own address and port and writes no element.</item>
/// <item>Appended after <see cref="NftIpv6Script.Install"/> in the same transaction, whose <c>flush chain</c> came first,
/// so the inserted rule exists once.</item>
/// </list>
/// </summary>
internal static class NftPeerScript
{
    /// <summary>The ip6 peers map and (NAT66) its SNAT rule; nothing without IPv6 (the ip6 table is being removed).</summary>
    public static string Install6(GatewayNetwork network)
    {
        ArgumentNullException.ThrowIfNull(network);
        if (network.Ipv6 is not { } v6)
            return "";
        var t = $"{NftIpv6Script.Family} {NftScript.Table}";
        var s = new StringBuilder();
        s.AppendLine(CultureInfo.InvariantCulture,
            $"add map {t} {NftScript.PeerMapName} {{ type ipv6_addr . inet_proto . inet_service . ipv6_addr . inet_service : ipv6_addr . inet_service; flags timeout; }}");
        if (v6.PublicAddresses.Count > 0)
        {
            s.AppendLine(CultureInfo.InvariantCulture,
                $"insert rule {t} postrouting oifname \"{network.PublicInterface}\" ip6 saddr {v6.TunnelPrefix} snat ip6 to ip6 saddr . meta l4proto . th sport . ip6 daddr . th dport map @{NftScript.PeerMapName}");
        }
        return s.ToString();
    }

    public static string List(string family) => $"list map {family} {NftScript.Table} {NftScript.PeerMapName}";

    /// <summary>
    /// The PEER entries of one family's map listing: owner from the comment, timeout the time left (zero when the
    /// element has none, which this gateway never writes: reconciliation removes it).
    /// </summary>
    public static List<PeerEntry> Parse(string json)
    {
        var entries = new List<PeerEntry>();
        foreach (var element in NftListing.Elements(json, "map"))
        {
            if (element.ValueKind != System.Text.Json.JsonValueKind.Array || element.GetArrayLength() != 2)
                throw new ForwardingTableException("unexpected nft listing: a peers element is not a [key, value] pair");
            var (keyElement, attributes) = NftListing.Unwrap(element[0]);
            var key = NftListing.Concat(keyElement, 5);
            var target = NftListing.Concat(element[1], 2);
            var lease = NftListing.ReadLease(attributes);
            var remote = new System.Net.IPEndPoint(NftListing.ReadAddress(key[3]), NftListing.ReadPort(key[4]));
            entries.Add(new PeerEntry(NftListing.ReadAddress(target[0]), NftListing.ReadProtocol(key[1]), NftListing.ReadPort(target[1]),
                NftListing.ReadAddress(key[0]), NftListing.ReadPort(key[2]), remote, lease.Owner, lease.Remaining ?? TimeSpan.Zero));
        }
        return entries;
    }
}
