using System.Net;
using System.Net.Sockets;
using Portcullis.Gateway.Forwarding;
using Portcullis.Linux.Nftables;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Kernel;

/// <summary>
/// The elements one <see cref="NftForwardingTable.Update"/> writes (layout in <see cref="NftScript"/>), in one
/// netlink batch — a single transaction. Each entry goes to its family's table (<c>ip portcullis</c> or
/// <c>ip6 portcullis</c>, the same map and lease set in both), and for each family:
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
/// Every value was validated by <see cref="ForwardingValidation"/> first (an entry's addresses share a family). Tags
/// name entries: removes 0…R-1, then adds R…R+A-1 (<see cref="EntryOf"/>), whatever their family.
/// </summary>
internal static class NftMappingElements
{
    /// <summary>
    /// Appends the update to <paramref name="writer"/>'s open batch; <paramref name="removed"/> is scratch space. Lists
    /// (what callers pass) are walked by index: no enumerator is allocated per update (any other collection is copied once).
    /// </summary>
    public static void Append(
        NftSetElementWriter writer, IReadOnlyCollection<ForwardingEntry> remove, IReadOnlyCollection<ForwardingEntry> add,
        HashSet<(IPAddress, MappingProtocol, ushort)> removed)
    {
        var removes = remove as IReadOnlyList<ForwardingEntry> ?? [.. remove];
        var adds = add as IReadOnlyList<ForwardingEntry> ?? [.. add];
        removed.Clear();
        var v4 = false;
        var v6 = false;
        for (var i = 0; i < removes.Count; i++)
        {
            removed.Add(removes[i].Key);
            v4 |= !IsV6(removes[i]);
            v6 |= IsV6(removes[i]);
        }
        for (var i = 0; i < adds.Count; i++)
        {
            v4 |= !IsV6(adds[i]);
            v6 |= IsV6(adds[i]);
        }
        if (v4)
            AppendFamily(writer, NftFamily.Ip, removes, adds, removed);
        if (v6)
            AppendFamily(writer, NftFamily.Ip6, removes, adds, removed);
    }

    /// <summary>The entry a tag names, or null for no tag.</summary>
    public static ForwardingEntry? EntryOf(int tag, IReadOnlyCollection<ForwardingEntry> remove, IReadOnlyCollection<ForwardingEntry> add) =>
        tag < 0 ? null : tag < remove.Count ? remove.ElementAt(tag) : add.ElementAtOrDefault(tag - remove.Count);

    private static void AppendFamily(
        NftSetElementWriter writer, NftFamily family, IReadOnlyList<ForwardingEntry> remove, IReadOnlyList<ForwardingEntry> add,
        HashSet<(IPAddress, MappingProtocol, ushort)> removed)
    {
        writer.Open(NftElementVerb.Add, family, NftScript.Table, NftScript.MapName);
        Mappings(writer, family, remove, tag: 0);
        writer.Open(NftElementVerb.Add, family, NftScript.Table, NftScript.LeaseSetName);
        TouchedKeys(writer, family, remove, add, removed);
        writer.Open(NftElementVerb.Delete, family, NftScript.Table, NftScript.MapName);
        Keys(writer, family, remove, tag: 0);
        writer.Open(NftElementVerb.Delete, family, NftScript.Table, NftScript.LeaseSetName);
        TouchedKeys(writer, family, remove, add, removed);
        writer.Open(NftElementVerb.Add, family, NftScript.Table, NftScript.MapName);
        Mappings(writer, family, add, tag: remove.Count);
        writer.Open(NftElementVerb.Add, family, NftScript.Table, NftScript.LeaseSetName);
        for (var i = 0; i < add.Count; i++)
        {
            var entry = add[i];
            if (Of(entry, family))
                writer.Element(Key(entry), NftConcat.Empty, entry.Timeout, entry.Owner, remove.Count + i);
        }
    }

    private static void Mappings(NftSetElementWriter writer, NftFamily family, IReadOnlyList<ForwardingEntry> entries, int tag)
    {
        for (var i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            if (Of(entry, family))
                writer.Element(Key(entry), Address(NftConcat.Empty, entry.TunnelAddress).Service(entry.InternalPort), null, null, tag + i);
        }
    }

    private static void Keys(NftSetElementWriter writer, NftFamily family, IReadOnlyList<ForwardingEntry> entries, int tag)
    {
        for (var i = 0; i < entries.Count; i++)
        {
            if (Of(entries[i], family))
                writer.Element(Key(entries[i]), NftConcat.Empty, null, null, tag + i);
        }
    }

    // Each key once: the removed ones, then the added ones not also removed (a refresh).
    private static void TouchedKeys(
        NftSetElementWriter writer, NftFamily family, IReadOnlyList<ForwardingEntry> remove, IReadOnlyList<ForwardingEntry> add,
        HashSet<(IPAddress, MappingProtocol, ushort)> removed)
    {
        Keys(writer, family, remove, tag: 0);
        for (var i = 0; i < add.Count; i++)
        {
            var entry = add[i];
            if (Of(entry, family) && !removed.Contains(entry.Key))
                writer.Element(Key(entry), NftConcat.Empty, null, null, remove.Count + i);
        }
    }

    private static bool IsV6(ForwardingEntry entry) => entry.PublicAddress.AddressFamily == AddressFamily.InterNetworkV6;

    private static bool Of(ForwardingEntry entry, NftFamily family) => IsV6(entry) == (family == NftFamily.Ip6);

    private static NftConcat Key(ForwardingEntry entry) =>
        Address(NftConcat.Empty, entry.PublicAddress).Protocol(Protocol(entry.Protocol)).Service(entry.PublicPort);

    private static NftConcat Address(NftConcat concat, IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetworkV6 ? concat.Ipv6(address) : concat.Ipv4(address);

    private static byte Protocol(MappingProtocol protocol) => protocol == MappingProtocol.Tcp ? (byte)6 : (byte)17;
}
