using Portcullis.Gateway.Forwarding;
using Portcullis.Linux.Nftables;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Kernel;

/// <summary>
/// The elements one <see cref="NftForwardingTable.Update"/> writes (layout in <see cref="NftScript"/>), in one
/// netlink batch — a single transaction:
/// <list type="number">
/// <item>add every removed mapping with its target: a no-op when the kernel holds it so, a conflict (EEXIST, and so a
/// failed transaction) when it maps the key elsewhere — which makes deletes idempotent yet never deletes another
/// target's element;</item>
/// <item>add the lease of every key touched (removed or added), bare: a no-op when present;</item>
/// <item>delete the removed mappings, then the leases of every key touched;</item>
/// <item>add the added mappings, then their leases with timeout and owner comment — so a refresh (the same entry
/// removed and added) restarts its timeout and replaces its owner (PROTOCOLS.md: refresh = delete + add in one
/// transaction).</item>
/// </list>
/// Every value was validated by <see cref="ForwardingValidation"/> first. Tags name entries: removes 0…R-1, then adds
/// R…R+A-1 (<see cref="EntryOf"/>).
/// </summary>
internal static class NftMappingElements
{
    private const NftFamily Family = NftFamily.Ip;

    /// <summary>Appends the update to <paramref name="writer"/>'s open batch; <paramref name="removed"/> is scratch space.</summary>
    public static void Append(
        NftSetElementWriter writer, IReadOnlyCollection<ForwardingEntry> remove, IReadOnlyCollection<ForwardingEntry> add,
        HashSet<(System.Net.IPAddress, MappingProtocol, ushort)> removed)
    {
        removed.Clear();
        foreach (var entry in remove)
            removed.Add(entry.Key);

        writer.Open(NftElementVerb.Add, Family, NftScript.Table, NftScript.MapName);
        Mappings(writer, remove, tag: 0);
        writer.Open(NftElementVerb.Add, Family, NftScript.Table, NftScript.LeaseSetName);
        TouchedKeys(writer, remove, add, removed);
        writer.Open(NftElementVerb.Delete, Family, NftScript.Table, NftScript.MapName);
        Keys(writer, remove, tag: 0);
        writer.Open(NftElementVerb.Delete, Family, NftScript.Table, NftScript.LeaseSetName);
        TouchedKeys(writer, remove, add, removed);
        writer.Open(NftElementVerb.Add, Family, NftScript.Table, NftScript.MapName);
        Mappings(writer, add, tag: remove.Count);
        writer.Open(NftElementVerb.Add, Family, NftScript.Table, NftScript.LeaseSetName);
        var tag = remove.Count;
        foreach (var entry in add)
            writer.Element(Key(entry), NftConcat.Empty, entry.Timeout, entry.Owner, tag++);
    }

    /// <summary>The entry a tag names, or null for no tag.</summary>
    public static ForwardingEntry? EntryOf(int tag, IReadOnlyCollection<ForwardingEntry> remove, IReadOnlyCollection<ForwardingEntry> add) =>
        tag < 0 ? null : tag < remove.Count ? remove.ElementAt(tag) : add.ElementAtOrDefault(tag - remove.Count);

    private static void Mappings(NftSetElementWriter writer, IReadOnlyCollection<ForwardingEntry> entries, int tag)
    {
        foreach (var entry in entries)
            writer.Element(Key(entry), NftConcat.Empty.Ipv4(entry.TunnelAddress).Service(entry.InternalPort), null, null, tag++);
    }

    private static void Keys(NftSetElementWriter writer, IReadOnlyCollection<ForwardingEntry> entries, int tag)
    {
        foreach (var entry in entries)
            writer.Element(Key(entry), NftConcat.Empty, null, null, tag++);
    }

    // Each key once: the removed ones, then the added ones not also removed (a refresh).
    private static void TouchedKeys(
        NftSetElementWriter writer, IReadOnlyCollection<ForwardingEntry> remove, IReadOnlyCollection<ForwardingEntry> add,
        HashSet<(System.Net.IPAddress, MappingProtocol, ushort)> removed)
    {
        Keys(writer, remove, tag: 0);
        var tag = remove.Count;
        foreach (var entry in add)
        {
            if (!removed.Contains(entry.Key))
                writer.Element(Key(entry), NftConcat.Empty, null, null, tag);
            tag++;
        }
    }

    private static NftConcat Key(ForwardingEntry entry) =>
        NftConcat.Empty.Ipv4(entry.PublicAddress).Protocol(Protocol(entry.Protocol)).Service(entry.PublicPort);

    private static byte Protocol(MappingProtocol protocol) => protocol == MappingProtocol.Tcp ? (byte)6 : (byte)17;
}
