using System.Buffers.Binary;

namespace Portcullis.Linux.Nftables;

/// <summary>
/// ctnetlink wire format (linux/netfilter/nfnetlink_conntrack.h): a netlink header, a 4-byte nfgenmsg, then
/// attributes. Only what deleting flows by original destination needs: the dump request (whole table, or filtered in
/// the kernel by original destination: CTA_FILTER, Linux 5.8+), reading the original tuple of each dumped entry, and a
/// delete request that carries that entry's own tuple, zone and id back.
/// </summary>
internal static class CtNetlinkMessages
{
    public const int NetlinkNetfilter = 12;
    public const int HeaderLength = 16;
    public const int NfGenLength = 4;
    public const ushort NlmsgError = 2;
    public const ushort NlmsgDone = 3;
    public const ushort MessageGet = (1 << 8) | 1;      // NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_GET
    public const ushort MessageDelete = (1 << 8) | 2;   // IPCTNL_MSG_CT_DELETE
    private const ushort FlagRequest = 0x1;
    private const ushort FlagAck = 0x4;
    private const ushort FlagDump = 0x300;
    public const byte AfUnspec = 0;
    public const byte AfInet = 2;
    public const byte AfInet6 = 10;
    private const ushort AttributeTypeMask = 0x3fff;    // without NLA_F_NESTED and NLA_F_NET_BYTEORDER
    private const ushort Nested = 0x8000;               // NLA_F_NESTED: CTA_FILTER is parsed strictly and needs it

    private const ushort CtaTupleOrig = 1;
    private const ushort CtaTupleReply = 2;
    private const ushort CtaId = 12;
    private const ushort CtaZone = 18;
    private const ushort CtaTupleIp = 1;
    private const ushort CtaTupleProto = 2;
    private const ushort CtaIpV4Src = 1;
    private const ushort CtaIpV4Dst = 2;
    private const ushort CtaProtoNum = 1;
    private const ushort CtaProtoDstPort = 3;
    private const ushort CtaFilter = 25;
    private const ushort CtaFilterOrigFlags = 1;
    private const ushort CtaFilterReplyFlags = 2;

    // net/netfilter/nf_internals.h: which fields of the request's CTA_TUPLE_ORIG an entry's original tuple must equal.
    private const uint FilterIpDst = 1 << 1;            // CTA_FILTER_F_CTA_IP_DST
    private const uint FilterProtoNum = 1 << 3;         // CTA_FILTER_F_CTA_PROTO_NUM
    private const uint FilterProtoDstPort = 1 << 5;     // CTA_FILTER_F_CTA_PROTO_DST_PORT
    private const int FilteredDumpLength = HeaderLength + NfGenLength + 36 + 20; // + CTA_TUPLE_ORIG + CTA_FILTER

    /// <summary>The original-direction destination of a flow: IPv4 address (network order as read), protocol, port.</summary>
    public readonly record struct Destination(uint Address, byte Protocol, ushort Port);

    /// <summary>A dump of the whole table: the IPv4 entries, or with <see cref="AfUnspec"/> those of every family.</summary>
    public static byte[] DumpRequest(uint sequence, byte family = AfInet)
    {
        var message = new byte[HeaderLength + NfGenLength];
        WriteHeader(message, MessageGet, FlagRequest | FlagDump, sequence, family);
        return message;
    }

    /// <summary>
    /// A dump of only the IPv4 entries whose original tuple has <paramref name="destination"/>'s address, protocol and
    /// (when <paramref name="byPort"/>) port, chosen by the kernel (ctnetlink_filter_match), so the reply is as long as the answer, not the table:
    /// <code>
    /// CTA_TUPLE_ORIG { CTA_TUPLE_IP { CTA_IP_V4_DST }, CTA_TUPLE_PROTO { CTA_PROTO_NUM, CTA_PROTO_DST_PORT } }
    /// CTA_FILTER { CTA_FILTER_ORIG_FLAGS = IP_DST | PROTO_NUM [| PROTO_DST_PORT], CTA_FILTER_REPLY_FLAGS = 0 }
    /// </code>
    /// A kernel before 5.8 ignores CTA_FILTER and dumps every IPv4 entry; newer ones refusing it answer EINVAL/EOPNOTSUPP.
    /// </summary>
    public static byte[] FilteredDumpRequest(Destination destination, bool byPort, uint sequence)
    {
        var message = new byte[FilteredDumpLength];
        WriteHeader(message, MessageGet, FlagRequest | FlagDump, sequence);
        var span = message.AsSpan(HeaderLength + NfGenLength);
        var at = 0;
        var tuple = Open(span, ref at, CtaTupleOrig);
        var ip = Open(span, ref at, CtaTupleIp);
        BinaryPrimitives.WriteUInt32BigEndian(Put(span, ref at, CtaIpV4Dst, 4), destination.Address);
        Close(span, ip, at);
        var proto = Open(span, ref at, CtaTupleProto);
        Put(span, ref at, CtaProtoNum, 1)[0] = destination.Protocol;
        BinaryPrimitives.WriteUInt16BigEndian(Put(span, ref at, CtaProtoDstPort, 2), destination.Port); // unused unless flagged
        Close(span, proto, at);
        Close(span, tuple, at);
        var filter = Open(span, ref at, CtaFilter);
        // The flags are host-order u32 (nla_get_u32), unlike the big-endian tuple fields.
        var flags = FilterIpDst | FilterProtoNum | (byPort ? FilterProtoDstPort : 0);
        BinaryPrimitives.WriteUInt32LittleEndian(Put(span, ref at, CtaFilterOrigFlags, 4), flags);
        BinaryPrimitives.WriteUInt32LittleEndian(Put(span, ref at, CtaFilterReplyFlags, 4), 0);
        Close(span, filter, at);
        return at == span.Length ? message : throw new InvalidOperationException("filtered dump request length miscounted");
    }

    /// <summary>
    /// A delete for the entry in <paramref name="entry"/> (one dumped message), or null when it lacks an original tuple.
    /// The tuple, zone and id are copied verbatim, so exactly that entry goes, not a newer one with the same tuple.
    /// </summary>
    public static byte[]? DeleteRequest(ReadOnlySpan<byte> entry, uint sequence)
    {
        var attributes = entry[(HeaderLength + NfGenLength)..];
        var tuple = FindRaw(attributes, CtaTupleOrig);
        if (tuple.IsEmpty)
            return null;
        var zone = FindRaw(attributes, CtaZone);
        var id = FindRaw(attributes, CtaId);
        var message = new byte[HeaderLength + NfGenLength + Align(tuple.Length) + Align(zone.Length) + Align(id.Length)];
        WriteHeader(message, MessageDelete, FlagRequest | FlagAck, sequence);
        var offset = HeaderLength + NfGenLength;
        tuple.CopyTo(message.AsSpan(offset));
        offset += Align(tuple.Length);
        zone.CopyTo(message.AsSpan(offset));
        offset += Align(zone.Length);
        id.CopyTo(message.AsSpan(offset));
        return message;
    }

    /// <summary>Reads the original destination of one dumped entry; false if it has none we understand.</summary>
    public static bool TryReadDestination(ReadOnlySpan<byte> entry, out Destination destination)
    {
        destination = default;
        if (entry.Length < HeaderLength + NfGenLength)
            return false;
        var tuple = Payload(FindRaw(entry[(HeaderLength + NfGenLength)..], CtaTupleOrig));
        var ip = Payload(FindRaw(tuple, CtaTupleIp));
        var proto = Payload(FindRaw(tuple, CtaTupleProto));
        var address = Payload(FindRaw(ip, CtaIpV4Dst));
        var number = Payload(FindRaw(proto, CtaProtoNum));
        var port = Payload(FindRaw(proto, CtaProtoDstPort));
        if (address.Length != 4 || number.Length < 1 || port.Length != 2)
            return false;
        destination = new Destination(BinaryPrimitives.ReadUInt32BigEndian(address), number[0], BinaryPrimitives.ReadUInt16BigEndian(port));
        return true;
    }

    /// <summary>
    /// Reads the IPv4 source of each direction of one dumped entry: the original source is who opened the flow, the
    /// reply source who answers it (after DNAT, the address it was forwarded to). False if either is missing.
    /// </summary>
    public static bool TryReadSources(ReadOnlySpan<byte> entry, out uint originalSource, out uint replySource)
    {
        originalSource = replySource = 0;
        if (entry.Length < HeaderLength + NfGenLength)
            return false;
        var attributes = entry[(HeaderLength + NfGenLength)..];
        var original = Payload(FindRaw(Payload(FindRaw(Payload(FindRaw(attributes, CtaTupleOrig)), CtaTupleIp)), CtaIpV4Src));
        var reply = Payload(FindRaw(Payload(FindRaw(Payload(FindRaw(attributes, CtaTupleReply)), CtaTupleIp)), CtaIpV4Src));
        if (original.Length != 4 || reply.Length != 4)
            return false;
        originalSource = BinaryPrimitives.ReadUInt32BigEndian(original);
        replySource = BinaryPrimitives.ReadUInt32BigEndian(reply);
        return true;
    }

    /// <summary>Splits a received buffer into netlink messages (header included); stops at a malformed length.</summary>
    public static List<(int Offset, int Length, ushort Type, uint Sequence)> Split(ReadOnlySpan<byte> data)
    {
        var messages = new List<(int, int, ushort, uint)>();
        foreach (var message in new NetlinkMessageSpan(data))
            messages.Add(message);
        return messages;
    }

    /// <summary>The errno (positive, 0 for an ack) an NLMSG_ERROR message carries.</summary>
    public static int ErrorOf(ReadOnlySpan<byte> message) =>
        message.Length >= HeaderLength + 4 ? -BinaryPrimitives.ReadInt32LittleEndian(message[HeaderLength..]) : 0;

    internal static void WriteHeader(Span<byte> message, ushort type, ushort flags, uint sequence, byte family = AfInet)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(message, (uint)message.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(message[4..], type);
        BinaryPrimitives.WriteUInt16LittleEndian(message[6..], flags);
        BinaryPrimitives.WriteUInt32LittleEndian(message[8..], sequence);
        message[HeaderLength] = family; // nfgenmsg: family, version 0, res_id 0
    }

    // Starts a nested attribute at at; returns where its header is, for Close to write the final length.
    internal static int Open(Span<byte> span, ref int at, ushort type)
    {
        var start = at;
        BinaryPrimitives.WriteUInt16LittleEndian(span[(start + 2)..], (ushort)(type | Nested));
        at += 4;
        return start;
    }

    internal static void Close(Span<byte> span, int start, int at) =>
        BinaryPrimitives.WriteUInt16LittleEndian(span[start..], (ushort)(at - start));

    // Writes an attribute header for a payload of length bytes (padded to 4) and returns the payload to fill.
    internal static Span<byte> Put(Span<byte> span, ref int at, ushort type, int length)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(span[at..], (ushort)(4 + length));
        BinaryPrimitives.WriteUInt16LittleEndian(span[(at + 2)..], type);
        var payload = span.Slice(at + 4, length);
        at += 4 + Align(length);
        return payload;
    }

    // An attribute whole (header + payload), or empty when absent or malformed.
    internal static ReadOnlySpan<byte> FindRaw(ReadOnlySpan<byte> attributes, ushort type)
    {
        var offset = 0;
        while (attributes.Length - offset >= 4)
        {
            var length = BinaryPrimitives.ReadUInt16LittleEndian(attributes[offset..]);
            if (length < 4 || length > attributes.Length - offset)
                return default;
            if ((BinaryPrimitives.ReadUInt16LittleEndian(attributes[(offset + 2)..]) & AttributeTypeMask) == type)
                return attributes.Slice(offset, length);
            offset += Align(length);
        }
        return default;
    }

    internal static ReadOnlySpan<byte> Payload(ReadOnlySpan<byte> attribute) => attribute.Length < 4 ? default : attribute[4..];

    internal static int Align(int length) => (length + 3) & ~3;
}
