using System.Buffers.Binary;

namespace Portcullis.Linux.Tun.Offload;

/// <summary>
/// Turns what an IFF_VNET_HDR TUN read gave us into wire-ready IP packets: a TCP (TSO) or UDP (USO) super-packet
/// becomes segments of at most GsoSize payload bytes, each with its own lengths, IPv4 ID and header checksum,
/// TCP sequence number and flags, and a full transport checksum, as the kernel's software GSO would make them;
/// a plain packet whose checksum the kernel left to us gets it finished. Pure: spans in, spans out.
/// </summary>
internal static class GsoSplitter
{
    private const int TcpFlagsOffset = 13;
    private const byte TcpFin = 0x01;
    private const byte TcpPsh = 0x08;
    private const byte TcpCwr = 0x80;
    private const byte ProtocolTcp = 6;
    private const byte ProtocolUdp = 17;

    /// <summary>
    /// How many packets <paramref name="packet"/> becomes: 1 for a plain packet, the segment count for a super-packet,
    /// 0 when the header does not describe the packet (it is dropped). Also returns the true header length of a
    /// super-packet (IP and transport headers; the kernel's hdr_len is only a hint).
    /// </summary>
    public static int SegmentCount(ReadOnlySpan<byte> packet, in VirtioNetHeader header, out int headerLength)
    {
        headerLength = 0;
        var type = header.GsoType & ~VirtioNetHeader.GsoEcn;
        if (type == VirtioNetHeader.GsoNone)
            return packet.Length > 0 ? 1 : 0;
        var version = packet.IsEmpty ? 0 : packet[0] >> 4;
        int start = header.ChecksumStart;
        var tcp = type is VirtioNetHeader.GsoTcpV4 or VirtioNetHeader.GsoTcpV6;
        var expectedVersion = type switch
        {
            VirtioNetHeader.GsoTcpV4 => 4,
            VirtioNetHeader.GsoTcpV6 => 6,
            VirtioNetHeader.GsoUdpL4 => version,
            _ => -1,
        };
        if (version != expectedVersion || (version != 4 && version != 6) || header.GsoSize == 0)
            return 0;
        if (start < (version == 4 ? 20 : 40) || start + (tcp ? 20 : 8) > packet.Length)
            return 0;
        if (header.ChecksumOffset != (tcp ? 16 : 6))
            return 0;
        headerLength = tcp ? start + ((packet[start + 12] >> 4) * 4) : start + 8;
        if (tcp && headerLength < start + 20)
            return 0;
        var payload = packet.Length - headerLength;
        if (payload <= 0)
            return 0;
        return (payload + header.GsoSize - 1) / header.GsoSize;
    }

    /// <summary>The length of segment <paramref name="index"/> (of <see cref="SegmentCount"/>).</summary>
    public static int SegmentLength(int packetLength, in VirtioNetHeader header, int headerLength, int index)
    {
        if ((header.GsoType & ~VirtioNetHeader.GsoEcn) == VirtioNetHeader.GsoNone)
            return packetLength;
        var offset = index * header.GsoSize;
        return headerLength + Math.Min(header.GsoSize, packetLength - headerLength - offset);
    }

    /// <summary>
    /// Writes segment <paramref name="index"/> of <paramref name="packet"/> to <paramref name="destination"/> (at
    /// least <see cref="SegmentLength"/> bytes) and returns its length.
    /// </summary>
    public static int WriteSegment(ReadOnlySpan<byte> packet, in VirtioNetHeader header, int headerLength, int index, Span<byte> destination)
    {
        var length = SegmentLength(packet.Length, header, headerLength, index);
        if ((header.GsoType & ~VirtioNetHeader.GsoEcn) == VirtioNetHeader.GsoNone)
        {
            packet.CopyTo(destination);
            if ((header.Flags & VirtioNetHeader.NeedsChecksum) != 0)
                FinishChecksum(destination[..length], header);
            return length;
        }

        var start = (int)header.ChecksumStart;
        var payloadOffset = headerLength + (index * header.GsoSize);
        var payloadLength = length - headerLength;
        var segment = destination[..length];
        packet[..headerLength].CopyTo(segment);
        packet.Slice(payloadOffset, payloadLength).CopyTo(segment[headerLength..]);

        var v4 = packet[0] >> 4 == 4;
        if (v4)
        {
            BinaryPrimitives.WriteUInt16BigEndian(segment[2..], (ushort)length);
            // Each segment its own IPv4 ID, counting up from the super-packet's, as the kernel's GSO does.
            BinaryPrimitives.WriteUInt16BigEndian(segment[4..], (ushort)(BinaryPrimitives.ReadUInt16BigEndian(packet[4..]) + index));
            var ihl = (segment[0] & 0x0f) * 4;
            segment[10] = segment[11] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(segment[10..], InternetChecksum.Complement(InternetChecksum.Add(segment[..ihl], 0)));
        }
        else
        {
            BinaryPrimitives.WriteUInt16BigEndian(segment[4..], (ushort)(length - 40));
        }

        var transport = segment[start..];
        var tcp = (header.GsoType & ~VirtioNetHeader.GsoEcn) != VirtioNetHeader.GsoUdpL4;
        if (tcp)
        {
            var firstSequence = BinaryPrimitives.ReadUInt32BigEndian(packet[(start + 4)..]);
            BinaryPrimitives.WriteUInt32BigEndian(transport[4..], firstSequence + (uint)(index * header.GsoSize));
            var last = payloadOffset + payloadLength == packet.Length;
            // FIN and PSH belong to the last segment only, CWR to the first only (as tcp_gso_segment does).
            if (!last)
                transport[TcpFlagsOffset] &= unchecked((byte)~(TcpFin | TcpPsh));
            if (index > 0)
                transport[TcpFlagsOffset] &= unchecked((byte)~TcpCwr);
        }
        else
        {
            BinaryPrimitives.WriteUInt16BigEndian(transport[4..], (ushort)transport.Length);
        }

        var checksumAt = header.ChecksumOffset;
        transport[checksumAt] = transport[checksumAt + 1] = 0;
        var addressLength = v4 ? 4 : 16;
        var addresses = v4 ? 12 : 8;
        var sum = InternetChecksum.PseudoHeader(
            segment.Slice(addresses, addressLength), segment.Slice(addresses + addressLength, addressLength),
            tcp ? ProtocolTcp : ProtocolUdp, transport.Length);
        var checksum = InternetChecksum.Complement(InternetChecksum.Add(transport, sum));
        if (!tcp && checksum == 0)
            checksum = 0xffff; // UDP: zero means "no checksum"
        BinaryPrimitives.WriteUInt16BigEndian(transport[checksumAt..], checksum);
        return length;
    }

    /// <summary>
    /// Finishes a checksum the kernel left partial (VIRTIO_NET_HDR_F_NEEDS_CSUM): the field holds the pseudo-header
    /// sum; the sum of everything from ChecksumStart, complemented, goes there. Out-of-range offsets leave the
    /// packet as it is, for the receiver to judge.
    /// </summary>
    public static void FinishChecksum(Span<byte> packet, in VirtioNetHeader header)
    {
        int start = header.ChecksumStart;
        var at = start + header.ChecksumOffset;
        if (at + 2 > packet.Length)
            return;
        var sum = InternetChecksum.Add(packet[start..], 0);
        var checksum = InternetChecksum.Complement(sum);
        // Zero would mean "no checksum" to UDP; 0xffff is the same sum to TCP and ICMP.
        BinaryPrimitives.WriteUInt16BigEndian(packet[at..], checksum == 0 ? (ushort)0xffff : checksum);
    }
}
