using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Portcullis.Gateway.Forwarding;
using Portcullis.Linux.Nftables;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Kernel;

/// <summary>
/// The remote-peer filter elements (layout in <see cref="NftFilterScript"/>) of one
/// <see cref="NftForwardingTable.Update"/>, appended to the same netlink batch as the mappings — one transaction:
/// <list type="number">
/// <item>the removed entries' keys and admissions are added bare, then deleted: a no-op add when present, so a delete
/// never fails on an element the kernel already let expire;</item>
/// <item>the added entries' admissions, with the lease as timeout, then their keys, a second longer
/// (<see cref="NftFilterScript.KeyMargin"/>): a key never outlives its admissions, so a filtered mapping whose filter
/// elements expired first is dark, never open to everyone.</item>
/// </list>
/// A refresh is a removal and an add of the same entry, so new filters replace the old ones. IPv4 entries only (the
/// ip6 table has no filter sets yet; validation refuses IPv6 entries with filters). Tags as
/// <see cref="NftMappingElements"/>: removes 0…R-1, then adds R…R+A-1.
/// </summary>
internal static class NftFilterElements
{
    public static void Append(NftSetElementWriter writer, IReadOnlyCollection<ForwardingEntry> remove, IReadOnlyCollection<ForwardingEntry> add)
    {
        if (!AnyFiltered(remove) && !AnyFiltered(add))
            return;
        writer.Open(NftElementVerb.Add, NftFamily.Ip, NftScript.Table, NftFilterScript.FilteredSet);
        Keys(writer, remove, 0, margin: false, bare: true);
        writer.Open(NftElementVerb.Add, NftFamily.Ip, NftScript.Table, NftFilterScript.AdmittedSet);
        Admissions(writer, remove, 0, bare: true);
        writer.Open(NftElementVerb.Delete, NftFamily.Ip, NftScript.Table, NftFilterScript.FilteredSet);
        Keys(writer, remove, 0, margin: false, bare: true);
        writer.Open(NftElementVerb.Delete, NftFamily.Ip, NftScript.Table, NftFilterScript.AdmittedSet);
        Admissions(writer, remove, 0, bare: true);
        writer.Open(NftElementVerb.Add, NftFamily.Ip, NftScript.Table, NftFilterScript.AdmittedSet);
        Admissions(writer, add, remove.Count, bare: false);
        writer.Open(NftElementVerb.Add, NftFamily.Ip, NftScript.Table, NftFilterScript.FilteredSet);
        Keys(writer, add, remove.Count, margin: true, bare: false);
    }

    private static bool AnyFiltered(IReadOnlyCollection<ForwardingEntry> entries)
    {
        foreach (var entry in entries)
        {
            if (Filtered(entry))
                return true;
        }
        return false;
    }

    private static bool Filtered(ForwardingEntry entry) =>
        entry.Filters.Count > 0 && entry.PublicAddress.AddressFamily == AddressFamily.InterNetwork;

    private static void Keys(NftSetElementWriter writer, IReadOnlyCollection<ForwardingEntry> entries, int tag, bool margin, bool bare)
    {
        foreach (var entry in entries)
        {
            if (Filtered(entry))
                writer.Element(Key(entry), NftConcat.Empty, bare ? null : entry.Timeout + (margin ? NftFilterScript.KeyMargin : TimeSpan.Zero), null, tag);
            tag++;
        }
    }

    // Every filter of the entry, minus those another covers: the interval set refuses an element inside another.
    private static void Admissions(NftSetElementWriter writer, IReadOnlyCollection<ForwardingEntry> entries, int tag, bool bare)
    {
        foreach (var entry in entries)
        {
            if (Filtered(entry))
            {
                var key = Key(entry);
                foreach (var filter in RemoteFilter.Minimal(entry.Filters))
                {
                    var (first, last) = Bounds(filter.Prefix);
                    var (low, high) = filter.Port == 0 ? ((ushort)0, ushort.MaxValue) : (filter.Port, filter.Port);
                    writer.Range(key.Ipv4(first).Service(low), key.Ipv4(last).Service(high), bare ? null : entry.Timeout, null, tag);
                }
            }
            tag++;
        }
    }

    private static (IPAddress First, IPAddress Last) Bounds(IPNetwork prefix)
    {
        Span<byte> bytes = stackalloc byte[4];
        prefix.BaseAddress.TryWriteBytes(bytes, out _);
        var first = BinaryPrimitives.ReadUInt32BigEndian(bytes);
        var host = prefix.PrefixLength == 0 ? uint.MaxValue : (1u << (32 - prefix.PrefixLength)) - 1;
        BinaryPrimitives.WriteUInt32BigEndian(bytes, first | host);
        return (prefix.BaseAddress, new IPAddress(bytes));
    }

    private static NftConcat Key(ForwardingEntry entry) =>
        NftConcat.Empty.Ipv4(entry.PublicAddress).Protocol(entry.Protocol == MappingProtocol.Tcp ? (byte)6 : (byte)17).Service(entry.PublicPort);
}
