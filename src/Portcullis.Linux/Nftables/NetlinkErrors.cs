using System.Buffers.Binary;
using System.Text;
using Portcullis.Linux.Links;

namespace Portcullis.Linux.Nftables;

/// <summary>Reads the extended-ack attributes of one NLMSG_ERROR message (linux/netlink.h, NETLINK_EXT_ACK).</summary>
internal static class NetlinkErrors
{
    private const ushort AttributeMessage = 1;   // NLMSGERR_ATTR_MSG
    private const ushort AttributeOffset = 2;    // NLMSGERR_ATTR_OFFS

    /// <summary>
    /// The kernel's text (null if none) and the offset of the attribute it blamed, counted from the start of the
    /// failing request's header (-1 if none).
    /// </summary>
    public static (string? Text, int Offset) Read(ReadOnlySpan<byte> message)
    {
        const int header = CtNetlinkMessages.HeaderLength;
        var flags = BinaryPrimitives.ReadUInt16LittleEndian(message[6..]);
        if ((flags & RtNetlink.FlagAckTlvs) == 0 || message.Length < header * 2 + 4)
            return (null, -1);
        // nlmsgerr = error + the request's header (+ its payload unless capped); the TLVs follow.
        var echoed = header;
        if ((flags & RtNetlink.FlagCapped) == 0)
        {
            // The echoed request's own length: one that does not fit in this message is no request.
            var length = BinaryPrimitives.ReadUInt32LittleEndian(message[(header + 4)..]);
            if (length < header || length > (uint)(message.Length - header - 4))
                return (null, -1);
            echoed = (int)length;
        }
        string? text = null;
        var offset = -1;
        var at = header + 4 + CtNetlinkMessages.Align(echoed);
        while (at + 4 <= message.Length)
        {
            var length = BinaryPrimitives.ReadUInt16LittleEndian(message[at..]);
            var type = BinaryPrimitives.ReadUInt16LittleEndian(message[(at + 2)..]);
            if (length < 4 || at + length > message.Length)
                break;
            var value = message.Slice(at + 4, length - 4);
            if (type == AttributeMessage)
            {
                var end = value.IndexOf((byte)0);
                text = Encoding.UTF8.GetString(end < 0 ? value : value[..end]);
            }
            else if (type == AttributeOffset && value.Length >= 4)
            {
                offset = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(value), int.MaxValue);
            }
            at += CtNetlinkMessages.Align(length);
        }
        return (text, offset);
    }
}
