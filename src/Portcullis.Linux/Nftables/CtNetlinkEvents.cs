using System.Buffers.Binary;

namespace Portcullis.Linux.Nftables;

/// <summary>
/// ctnetlink event messages and exact deletes (linux/netfilter/nfnetlink_conntrack.h). An event — and each entry of a
/// dump, which has the same layout — is read into a <see cref="TrackedFlow"/> value:
/// <code>
/// CTA_TUPLE_ORIG  { CTA_TUPLE_IP { CTA_IP_V4_SRC, CTA_IP_V4_DST } or { CTA_IP_V6_SRC, CTA_IP_V6_DST }, CTA_TUPLE_PROTO { CTA_PROTO_NUM, CTA_PROTO_SRC_PORT, CTA_PROTO_DST_PORT } }
/// CTA_TUPLE_REPLY { CTA_TUPLE_IP { CTA_IP_V4_SRC, … },             CTA_TUPLE_PROTO { …, CTA_PROTO_SRC_PORT, … } }
/// CTA_ZONE (be16, absent for zone 0), CTA_ID (be32)
/// </code>
/// The delete carries the original tuple, zone and id back, so the kernel removes that entry or answers ENOENT.
/// </summary>
internal static class CtNetlinkEvents
{
    public const int GroupNew = 1;                      // NFNLGRP_CONNTRACK_NEW
    public const int GroupDestroy = 3;                  // NFNLGRP_CONNTRACK_DESTROY
    public const ushort MessageNew = 1 << 8;            // IPCTNL_MSG_CT_NEW: confirmed (and, on other groups, updated)
    // The longest delete (IPv6, with an id); an IPv4 one is 24 bytes shorter (two 4-byte addresses, not 16).
    public const int DeleteLength = CtNetlinkMessages.HeaderLength + CtNetlinkMessages.NfGenLength + 76 + 8 + 8;

    private const ushort CtaTupleOrig = 1;
    private const ushort CtaTupleReply = 2;
    private const ushort CtaId = 12;
    private const ushort CtaZone = 18;
    private const ushort CtaTupleIp = 1;
    private const ushort CtaTupleProto = 2;
    private const ushort CtaIpV4Src = 1;
    private const ushort CtaIpV4Dst = 2;
    private const ushort CtaIpV6Src = 3;
    private const ushort CtaIpV6Dst = 4;
    private const ushort CtaProtoNum = 1;
    private const ushort CtaProtoSrcPort = 2;
    private const ushort CtaProtoDstPort = 3;
    private const ushort FlagRequest = 0x1;
    private const ushort FlagAck = 0x4;

    /// <summary>
    /// Reads an event (or dumped entry) of type IPCTNL_MSG_CT_NEW or IPCTNL_MSG_CT_DELETE; false for any other message,
    /// a flow neither IPv4 nor IPv6, or a protocol without ports (ICMP…): nothing a port mapping carries.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> message, out ConntrackEvent read)
    {
        read = default;
        if (message.Length < CtNetlinkMessages.HeaderLength + CtNetlinkMessages.NfGenLength)
            return false;
        var type = BinaryPrimitives.ReadUInt16LittleEndian(message[4..]);
        ConntrackEventKind kind;
        if (type == MessageNew)
            kind = ConntrackEventKind.New;
        else if (type == CtNetlinkMessages.MessageDelete)
            kind = ConntrackEventKind.Destroy;
        else
            return false;
        if (!TryReadFlow(message[(CtNetlinkMessages.HeaderLength + CtNetlinkMessages.NfGenLength)..], out var flow))
            return false;
        read = new ConntrackEvent(kind, flow);
        return true;
    }

    /// <summary>Reads the attributes of one entry (after the netlink and nfgen headers) into a flow.</summary>
    public static bool TryReadFlow(ReadOnlySpan<byte> attributes, out TrackedFlow flow)
    {
        flow = default;
        var original = CtNetlinkMessages.Payload(CtNetlinkMessages.FindRaw(attributes, CtaTupleOrig));
        var reply = CtNetlinkMessages.Payload(CtNetlinkMessages.FindRaw(attributes, CtaTupleReply));
        if (!TryReadTuple(original, out var protocol, out var source, out var sourcePort, out var destination, out var destinationPort)
            || !TryReadTuple(reply, out _, out var replySource, out var replySourcePort, out _, out _))
        {
            return false;
        }
        var zone = CtNetlinkMessages.Payload(CtNetlinkMessages.FindRaw(attributes, CtaZone));
        var id = CtNetlinkMessages.Payload(CtNetlinkMessages.FindRaw(attributes, CtaId));
        flow = new TrackedFlow(protocol, source, sourcePort, destination, destinationPort, replySource, replySourcePort,
            zone.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(zone) : (ushort)0,
            id.Length >= 4 ? BinaryPrimitives.ReadUInt32BigEndian(id) : 0);
        return true;
    }

    /// <summary>
    /// Writes IPCTNL_MSG_CT_DELETE for exactly <paramref name="flow"/> into <paramref name="into"/> (at least
    /// <see cref="DeleteLength"/> bytes) and returns its length. The id is sent only when known (non-zero).
    /// </summary>
    public static int WriteDelete(in TrackedFlow flow, uint sequence, Span<byte> into)
    {
        var v4 = flow.IsV4;
        var length = DeleteLength - (v4 ? 24 : 0) - (flow.Id != 0 ? 0 : 8);
        var message = into[..length];
        message.Clear();
        // The family in nfgenmsg tells ctnetlink which CTA_IP_* to parse the tuple's addresses from.
        CtNetlinkMessages.WriteHeader(message, CtNetlinkMessages.MessageDelete, FlagRequest | FlagAck, sequence,
            v4 ? CtNetlinkMessages.AfInet : CtNetlinkMessages.AfInet6);
        var span = message[(CtNetlinkMessages.HeaderLength + CtNetlinkMessages.NfGenLength)..];
        var at = 0;
        var tuple = CtNetlinkMessages.Open(span, ref at, CtaTupleOrig);
        var ip = CtNetlinkMessages.Open(span, ref at, CtaTupleIp);
        if (v4)
        {
            BinaryPrimitives.WriteUInt32BigEndian(CtNetlinkMessages.Put(span, ref at, CtaIpV4Src, 4), FlowAddress.ToV4(flow.Source));
            BinaryPrimitives.WriteUInt32BigEndian(CtNetlinkMessages.Put(span, ref at, CtaIpV4Dst, 4), FlowAddress.ToV4(flow.Destination));
        }
        else
        {
            BinaryPrimitives.WriteUInt128BigEndian(CtNetlinkMessages.Put(span, ref at, CtaIpV6Src, 16), flow.Source);
            BinaryPrimitives.WriteUInt128BigEndian(CtNetlinkMessages.Put(span, ref at, CtaIpV6Dst, 16), flow.Destination);
        }
        CtNetlinkMessages.Close(span, ip, at);
        var proto = CtNetlinkMessages.Open(span, ref at, CtaTupleProto);
        CtNetlinkMessages.Put(span, ref at, CtaProtoNum, 1)[0] = flow.Protocol;
        BinaryPrimitives.WriteUInt16BigEndian(CtNetlinkMessages.Put(span, ref at, CtaProtoSrcPort, 2), flow.SourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(CtNetlinkMessages.Put(span, ref at, CtaProtoDstPort, 2), flow.DestinationPort);
        CtNetlinkMessages.Close(span, proto, at);
        CtNetlinkMessages.Close(span, tuple, at);
        BinaryPrimitives.WriteUInt16BigEndian(CtNetlinkMessages.Put(span, ref at, CtaZone, 2), flow.Zone);
        if (flow.Id != 0)
            BinaryPrimitives.WriteUInt32BigEndian(CtNetlinkMessages.Put(span, ref at, CtaId, 4), flow.Id);
        return at == span.Length ? length : throw new InvalidOperationException("delete request length miscounted");
    }

    // An IPv4 or IPv6 tuple with ports; false for anything else.
    private static bool TryReadTuple(ReadOnlySpan<byte> tuple, out byte protocol, out UInt128 source, out ushort sourcePort,
        out UInt128 destination, out ushort destinationPort)
    {
        protocol = 0;
        source = destination = 0;
        sourcePort = destinationPort = 0;
        var ip = CtNetlinkMessages.Payload(CtNetlinkMessages.FindRaw(tuple, CtaTupleIp));
        var proto = CtNetlinkMessages.Payload(CtNetlinkMessages.FindRaw(tuple, CtaTupleProto));
        var src = CtNetlinkMessages.Payload(CtNetlinkMessages.FindRaw(ip, CtaIpV4Src));
        var dst = CtNetlinkMessages.Payload(CtNetlinkMessages.FindRaw(ip, CtaIpV4Dst));
        var v4 = src.Length == 4 && dst.Length == 4;
        if (!v4)
        {
            src = CtNetlinkMessages.Payload(CtNetlinkMessages.FindRaw(ip, CtaIpV6Src));
            dst = CtNetlinkMessages.Payload(CtNetlinkMessages.FindRaw(ip, CtaIpV6Dst));
            if (src.Length != 16 || dst.Length != 16)
                return false;
        }
        var number = CtNetlinkMessages.Payload(CtNetlinkMessages.FindRaw(proto, CtaProtoNum));
        var sport = CtNetlinkMessages.Payload(CtNetlinkMessages.FindRaw(proto, CtaProtoSrcPort));
        var dport = CtNetlinkMessages.Payload(CtNetlinkMessages.FindRaw(proto, CtaProtoDstPort));
        if (number.Length < 1 || sport.Length != 2 || dport.Length != 2)
            return false;
        protocol = number[0];
        source = v4 ? FlowAddress.V4(BinaryPrimitives.ReadUInt32BigEndian(src)) : BinaryPrimitives.ReadUInt128BigEndian(src);
        destination = v4 ? FlowAddress.V4(BinaryPrimitives.ReadUInt32BigEndian(dst)) : BinaryPrimitives.ReadUInt128BigEndian(dst);
        sourcePort = BinaryPrimitives.ReadUInt16BigEndian(sport);
        destinationPort = BinaryPrimitives.ReadUInt16BigEndian(dport);
        return true;
    }
}
