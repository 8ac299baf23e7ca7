using System.Net;
using System.Net.Sockets;
using Portcullis.Gateway.Forwarding;
using Portcullis.Linux.Nftables;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Kernel;

/// <summary>
/// The remote-peer filter elements (layout in <see cref="NftFilterScript"/>) of one
/// <see cref="NftForwardingTable.Update"/>, appended to the same netlink batch as the mappings — one transaction. Each
/// entry goes to its family's table (<c>ip portcullis</c> or <c>ip6 portcullis</c>), and for each family:
/// <list type="number">
/// <item>the removed entries' keys and admissions are added bare, then deleted: a no-op add when present, so a delete
/// never fails on an element the kernel already let expire;</item>
/// <item>the added entries' admissions, with the lease as timeout, then their keys, a second longer
/// (<see cref="NftFilterScript.KeyMargin"/>): a key never outlives its admissions, so a filtered mapping whose filter
/// elements expired first is dark, never open to everyone.</item>
/// </list>
/// A refresh is a removal and an add of the same entry, so new filters replace the old ones. Tags as
/// <see cref="NftMappingElements"/>: removes 0…R-1, then adds R…R+A-1. Allocates nothing when given lists (the
/// forwarding service's requests path): no enumerator, no filter list, no address object per element.
/// </summary>
internal static class NftFilterElements
{
    public static void Append(NftSetElementWriter writer, IReadOnlyCollection<ForwardingEntry> remove, IReadOnlyCollection<ForwardingEntry> add)
    {
        var removed = remove as IReadOnlyList<ForwardingEntry> ?? [.. remove];
        var added = add as IReadOnlyList<ForwardingEntry> ?? [.. add];
        foreach (var family in (ReadOnlySpan<NftFamily>)[NftFamily.Ip, NftFamily.Ip6])
        {
            if (AnyFiltered(removed, family) || AnyFiltered(added, family))
                AppendFamily(writer, family, removed, added);
        }
    }

    private static void AppendFamily(NftSetElementWriter writer, NftFamily family, IReadOnlyList<ForwardingEntry> remove, IReadOnlyList<ForwardingEntry> add)
    {
        writer.Open(NftElementVerb.Add, family, NftScript.Table, NftFilterScript.FilteredSet);
        Keys(writer, family, remove, 0, margin: false, bare: true);
        writer.Open(NftElementVerb.Add, family, NftScript.Table, NftFilterScript.AdmittedSet);
        Admissions(writer, family, remove, 0, bare: true);
        writer.Open(NftElementVerb.Delete, family, NftScript.Table, NftFilterScript.FilteredSet);
        Keys(writer, family, remove, 0, margin: false, bare: true);
        writer.Open(NftElementVerb.Delete, family, NftScript.Table, NftFilterScript.AdmittedSet);
        Admissions(writer, family, remove, 0, bare: true);
        writer.Open(NftElementVerb.Add, family, NftScript.Table, NftFilterScript.AdmittedSet);
        Admissions(writer, family, add, remove.Count, bare: false);
        writer.Open(NftElementVerb.Add, family, NftScript.Table, NftFilterScript.FilteredSet);
        Keys(writer, family, add, remove.Count, margin: true, bare: false);
    }

    private static bool AnyFiltered(IReadOnlyList<ForwardingEntry> entries, NftFamily family)
    {
        for (var i = 0; i < entries.Count; i++)
        {
            if (Filtered(entries[i], family))
                return true;
        }
        return false;
    }

    private static bool Filtered(ForwardingEntry entry, NftFamily family) =>
        entry.Filters.Count > 0 && (entry.PublicAddress.AddressFamily == AddressFamily.InterNetworkV6) == (family == NftFamily.Ip6);

    private static void Keys(NftSetElementWriter writer, NftFamily family, IReadOnlyList<ForwardingEntry> entries, int tag, bool margin, bool bare)
    {
        for (var i = 0; i < entries.Count; i++, tag++)
        {
            var entry = entries[i];
            if (Filtered(entry, family))
                writer.Element(Key(entry), NftConcat.Empty, bare ? null : entry.Timeout + (margin ? NftFilterScript.KeyMargin : TimeSpan.Zero), null, tag);
        }
    }

    // Every filter of the entry but those another one covers (RemoteFilter.Minimal's choice, without its list): the
    // interval set refuses an element inside another.
    private static void Admissions(NftSetElementWriter writer, NftFamily family, IReadOnlyList<ForwardingEntry> entries, int tag, bool bare)
    {
        Span<byte> last = stackalloc byte[16];
        for (var i = 0; i < entries.Count; i++, tag++)
        {
            var entry = entries[i];
            if (!Filtered(entry, family))
                continue;
            var key = Key(entry);
            var filters = entry.Filters;
            for (var f = 0; f < filters.Count; f++)
            {
                if (Covered(filters, f))
                    continue;
                var filter = filters[f];
                var (low, high) = filter.Port == 0 ? ((ushort)0, ushort.MaxValue) : (filter.Port, filter.Port);
                var size = LastAddress(filter.Prefix, last);
                writer.Range(
                    Address(key, filter.Prefix.BaseAddress).Service(low), key.AddressBytes(last[..size]).Service(high),
                    bare ? null : entry.Timeout, null, tag);
            }
        }
    }

    // As RemoteFilter.Minimal: left out when another filter covers it, of two equal ones the first kept.
    private static bool Covered(IReadOnlyList<RemoteFilter> filters, int i)
    {
        for (var j = 0; j < filters.Count; j++)
        {
            if (i != j && filters[j].Covers(filters[i]) && (!filters[i].Covers(filters[j]) || j < i))
                return true;
        }
        return false;
    }

    // The prefix's highest address (host bits set) into bytes; returns its length (4 or 16).
    private static int LastAddress(IPNetwork prefix, Span<byte> bytes)
    {
        prefix.BaseAddress.TryWriteBytes(bytes, out var size);
        for (var bit = prefix.PrefixLength; bit < size * 8; bit++)
            bytes[bit / 8] |= (byte)(0x80 >> (bit % 8));
        return size;
    }

    private static NftConcat Key(ForwardingEntry entry) =>
        Address(NftConcat.Empty, entry.PublicAddress).Protocol(entry.Protocol == MappingProtocol.Tcp ? (byte)6 : (byte)17).Service(entry.PublicPort);

    private static NftConcat Address(NftConcat concat, IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetworkV6 ? concat.Ipv6(address) : concat.Ipv4(address);
}
