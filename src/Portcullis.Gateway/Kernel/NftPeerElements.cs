using Portcullis.Gateway.Forwarding;
using Portcullis.Linux.Nftables;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Kernel;

/// <summary>
/// The PCP PEER elements (explicit outbound mappings, <see cref="ForwardingEntry.Remote"/> set) of one
/// <see cref="NftForwardingTable.Update"/>, appended to the same netlink batch as the mappings — one transaction — in
/// the map <see cref="NftScript.PeerMapName"/>: <c>TUNNEL . PROTO . INTERNAL_PORT . REMOTE . REMOTE_PORT :
/// PUBLIC . PUBLIC_PORT</c>, the lease as timeout and the owner as comment.
/// <list type="number">
/// <item>the removed entries are added with their target first: a no-op when the kernel holds them so (or let them
/// expire already), so a delete never fails on a lapsed element;</item>
/// <item>then deleted, then the added entries are added — a refresh (removed and added) restarts its timeout.</item>
/// </list>
/// IPv4 only (validation refuses others). Callers pass PEER entries only; tags are -1 (the batch error names none).
/// </summary>
internal static class NftPeerElements
{
    private const int NoTag = -1;

    public static void Append(NftSetElementWriter writer, IReadOnlyCollection<ForwardingEntry> remove, IReadOnlyCollection<ForwardingEntry> add)
    {
        if (remove.Count == 0 && add.Count == 0)
            return;
        writer.Open(NftElementVerb.Add, NftFamily.Ip, NftScript.Table, NftScript.PeerMapName);
        foreach (var entry in remove)
            writer.Element(Key(entry), Target(entry), null, null, NoTag);
        writer.Open(NftElementVerb.Delete, NftFamily.Ip, NftScript.Table, NftScript.PeerMapName);
        foreach (var entry in remove)
            writer.Element(Key(entry), NftConcat.Empty, null, null, NoTag);
        writer.Open(NftElementVerb.Add, NftFamily.Ip, NftScript.Table, NftScript.PeerMapName);
        foreach (var entry in add)
            writer.Element(Key(entry), Target(entry), entry.Timeout, entry.Owner, NoTag);
    }

    private static NftConcat Key(ForwardingEntry entry)
    {
        var remote = entry.Remote!;
        return NftConcat.Empty.Ipv4(entry.TunnelAddress).Protocol(entry.Protocol == MappingProtocol.Tcp ? (byte)6 : (byte)17)
            .Service(entry.InternalPort).Ipv4(remote.Address).Service((ushort)remote.Port);
    }

    private static NftConcat Target(ForwardingEntry entry) => NftConcat.Empty.Ipv4(entry.PublicAddress).Service(entry.PublicPort);
}
