using System.Net.Sockets;
using Portcullis.Gateway.Forwarding;
using Portcullis.Linux.Nftables;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Kernel;

/// <summary>
/// The PCP PEER elements (explicit outbound mappings, <see cref="PeerEntry"/>) of one
/// <see cref="NftForwardingTable.Update"/>, appended to the same netlink batch as the mappings — one transaction — in
/// the map <see cref="NftScript.PeerMapName"/> of the entry's family (<c>ip</c>, or <c>ip6</c> with NAT66):
/// <c>TUNNEL . PROTO . INTERNAL_PORT . REMOTE . REMOTE_PORT : PUBLIC . PUBLIC_PORT</c>, the lease as timeout and the
/// owner as comment.
/// <list type="number">
/// <item>the removed entries are added with their target first: a no-op when the kernel holds them so (or let them
/// expire already), so a delete never fails on a lapsed element;</item>
/// <item>then deleted, then the added entries are added — a refresh (removed and added) restarts its timeout.</item>
/// </list>
/// Tags: removed entries <c>firstTag…</c>, then added ones, so a failed batch names its entry (<see cref="EntryOf"/>).
/// </summary>
internal static class NftPeerElements
{
    public static void Append(NftSetElementWriter writer, IReadOnlyList<PeerEntry> remove, IReadOnlyList<PeerEntry> add, int firstTag)
    {
        if (remove.Count == 0 && add.Count == 0)
            return;
        foreach (var family in (NftFamily[])[NftFamily.Ip, NftFamily.Ip6])
        {
            if (!remove.Any(e => Of(e, family)) && !add.Any(e => Of(e, family)))
                continue;
            writer.Open(NftElementVerb.Add, family, NftScript.Table, NftScript.PeerMapName);
            for (var i = 0; i < remove.Count; i++)
            {
                if (Of(remove[i], family))
                    writer.Element(Key(remove[i]), Target(remove[i]), null, null, firstTag + i);
            }
            writer.Open(NftElementVerb.Delete, family, NftScript.Table, NftScript.PeerMapName);
            for (var i = 0; i < remove.Count; i++)
            {
                if (Of(remove[i], family))
                    writer.Element(Key(remove[i]), NftConcat.Empty, null, null, firstTag + i);
            }
            writer.Open(NftElementVerb.Add, family, NftScript.Table, NftScript.PeerMapName);
            for (var i = 0; i < add.Count; i++)
            {
                if (Of(add[i], family))
                    writer.Element(Key(add[i]), Target(add[i]), add[i].Timeout, add[i].Owner, firstTag + remove.Count + i);
            }
        }
    }

    /// <summary>The entry <paramref name="tag"/> names, or null when it names none of these.</summary>
    public static PeerEntry? EntryOf(int tag, IReadOnlyList<PeerEntry> remove, IReadOnlyList<PeerEntry> add, int firstTag)
    {
        var i = tag - firstTag;
        return i < 0 ? null : i < remove.Count ? remove[i] : i - remove.Count < add.Count ? add[i - remove.Count] : null;
    }

    private static bool Of(PeerEntry entry, NftFamily family) =>
        (entry.TunnelAddress.AddressFamily == AddressFamily.InterNetworkV6) == (family == NftFamily.Ip6);

    private static NftConcat Key(PeerEntry entry)
    {
        var proto = entry.Protocol == MappingProtocol.Tcp ? (byte)6 : (byte)17;
        return entry.TunnelAddress.AddressFamily == AddressFamily.InterNetworkV6
            ? NftConcat.Empty.Ipv6(entry.TunnelAddress).Protocol(proto).Service(entry.InternalPort)
                .Ipv6(entry.Remote.Address).Service((ushort)entry.Remote.Port)
            : NftConcat.Empty.Ipv4(entry.TunnelAddress).Protocol(proto).Service(entry.InternalPort)
                .Ipv4(entry.Remote.Address).Service((ushort)entry.Remote.Port);
    }

    private static NftConcat Target(PeerEntry entry) =>
        entry.PublicAddress.AddressFamily == AddressFamily.InterNetworkV6
            ? NftConcat.Empty.Ipv6(entry.PublicAddress).Service(entry.PublicPort)
            : NftConcat.Empty.Ipv4(entry.PublicAddress).Service(entry.PublicPort);
}
