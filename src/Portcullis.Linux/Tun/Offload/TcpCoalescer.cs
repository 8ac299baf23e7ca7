using System.Buffers.Binary;

namespace Portcullis.Linux.Tun.Offload;

/// <summary>
/// GRO for TUN writes: finds, in one batch of IP packets, runs of in-order TCP segments of one flow that the kernel
/// may take as one super-packet (IFF_VNET_HDR with GSO), and builds that super-packet. The rules follow the
/// kernel's own GRO (tcp_gro_receive): same addresses, ports, ACK number, window, header lengths, options, TOS and
/// TTL; consecutive sequence numbers; only ACK or ACK+PSH; every segment the first one's size but the last, which
/// may be shorter; PSH only at the end; a segment whose checksum is wrong is never merged (the kernel would trust
/// the super-packet's), so it reaches the stack alone to be judged there. Everything else passes untouched.
/// One instance per writer; arrays grow with the largest batch seen, never per packet.
/// </summary>
internal sealed class TcpCoalescer
{
    /// <summary>Segments merged into one super-packet at most.</summary>
    public const int MaxSegments = 64;

    /// <summary>The largest super-packet: an IP packet's length field.</summary>
    public const int MaxLength = 65535;

    private const int MaxOpenFlows = 16;
    private const byte ProtocolTcp = 6;
    private const byte TcpAck = 0x10;
    private const byte TcpPsh = 0x08;

    // Sized for the device's batches (128 packets); a larger batch grows them once.
    private int[] _next = new int[128];
    private bool[] _member = new bool[128];
    private readonly Item[] _open = new Item[MaxOpenFlows];
    private int _openCount;

    private struct Item
    {
        public int Head;
        public int Tail;
        public int Count;
        public int IpHeaderLength;
        public int TcpHeaderLength;
        public int GsoSize;
        public int PayloadLength;
        public uint NextSequence;
        public bool Ended;
    }

    /// <summary>
    /// Groups <paramref name="packets"/>. Afterwards <see cref="IsMerged"/> says which packets travel inside an
    /// earlier one, and <see cref="GroupSize"/> how many packets the one at an index heads (1: write it alone).
    /// </summary>
    public void Plan(ReadOnlySpan<ArraySegment<byte>> packets)
    {
        if (_next.Length < packets.Length)
        {
            _next = new int[packets.Length];
            _member = new bool[packets.Length];
        }
        _openCount = 0;
        for (var i = 0; i < packets.Length; i++)
        {
            _next[i] = -1;
            _member[i] = false;
            Consider(packets, i);
        }
    }

    /// <summary>True when packet <paramref name="index"/> was merged into an earlier one: do not write it.</summary>
    public bool IsMerged(int index) => _member[index];

    /// <summary>Packets in the group packet <paramref name="index"/> heads (1 when it goes alone).</summary>
    public int GroupSize(int index)
    {
        var n = 1;
        for (var i = _next[index]; i >= 0; i = _next[i])
            n++;
        return n;
    }

    /// <summary>
    /// Writes the vnet header and the super-packet headed by <paramref name="head"/> to
    /// <paramref name="destination"/>; returns the bytes written.
    /// </summary>
    public int Build(ReadOnlySpan<ArraySegment<byte>> packets, int head, Span<byte> destination)
    {
        ReadOnlySpan<byte> first = packets[head];
        var v4 = first[0] >> 4 == 4;
        var ipHeaderLength = v4 ? (first[0] & 0x0f) * 4 : 40;
        var tcpHeaderLength = (first[ipHeaderLength + 12] >> 4) * 4;
        var headers = ipHeaderLength + tcpHeaderLength;
        var gsoSize = first.Length - headers;

        var packet = destination[VirtioNetHeader.Size..];
        first[..headers].CopyTo(packet);
        var length = headers;
        var lastFlags = first[ipHeaderLength + 13];
        for (var i = head; i >= 0; i = _next[i])
        {
            ReadOnlySpan<byte> segment = packets[i];
            segment[headers..].CopyTo(packet[length..]);
            length += segment.Length - headers;
            lastFlags = segment[ipHeaderLength + 13];
        }
        packet = packet[..length];
        packet[ipHeaderLength + 13] |= (byte)(lastFlags & TcpPsh);
        if (v4)
        {
            BinaryPrimitives.WriteUInt16BigEndian(packet[2..], (ushort)length);
            packet[10] = packet[11] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(packet[10..], InternetChecksum.Complement(InternetChecksum.Add(packet[..ipHeaderLength], 0)));
        }
        else
        {
            BinaryPrimitives.WriteUInt16BigEndian(packet[4..], (ushort)(length - 40));
        }
        // The checksum field gets the pseudo-header sum: the kernel finishes it if the packet ever leaves again.
        var addressLength = v4 ? 4 : 16;
        var addresses = v4 ? 12 : 8;
        var pseudo = InternetChecksum.PseudoHeader(
            packet.Slice(addresses, addressLength), packet.Slice(addresses + addressLength, addressLength), ProtocolTcp, length - ipHeaderLength);
        BinaryPrimitives.WriteUInt16BigEndian(packet[(ipHeaderLength + 16)..], InternetChecksum.Fold(pseudo));

        new VirtioNetHeader
        {
            Flags = VirtioNetHeader.NeedsChecksum,
            GsoType = v4 ? VirtioNetHeader.GsoTcpV4 : VirtioNetHeader.GsoTcpV6,
            HeaderLength = (ushort)headers,
            GsoSize = (ushort)gsoSize,
            ChecksumStart = (ushort)ipHeaderLength,
            ChecksumOffset = 16,
        }.Write(destination);
        return VirtioNetHeader.Size + length;
    }

    private void Consider(ReadOnlySpan<ArraySegment<byte>> packets, int index)
    {
        ReadOnlySpan<byte> packet = packets[index];
        if (!TryParse(packet, out var ipHeaderLength, out var tcpHeaderLength, out var candidate))
            return;
        var tcp = packet[ipHeaderLength..];
        var open = FindOpen(packets, packet, ipHeaderLength);
        if (!candidate)
        {
            // Anything else of the flow (a pure ACK, FIN, RST, ...) ends its run: nothing may overtake it.
            if (open >= 0)
                Close(open);
            return;
        }
        var payload = packet.Length - ipHeaderLength - tcpHeaderLength;
        var sequence = BinaryPrimitives.ReadUInt32BigEndian(tcp[4..]);
        var psh = (tcp[13] & TcpPsh) != 0;
        if (open >= 0)
        {
            ref var item = ref _open[open];
            if (CanAppend(packets, ref item, packet, ipHeaderLength, tcpHeaderLength, payload, sequence))
            {
                _next[item.Tail] = index;
                _member[index] = true;
                item.Tail = index;
                item.Count++;
                item.PayloadLength += payload;
                item.NextSequence = sequence + (uint)payload;
                item.Ended = psh || payload < item.GsoSize;
                return;
            }
            Close(open);
        }
        if (psh || _openCount == MaxOpenFlows || !ChecksumValid(packet, ipHeaderLength))
            return;
        _open[_openCount++] = new Item
        {
            Head = index,
            Tail = index,
            Count = 1,
            IpHeaderLength = ipHeaderLength,
            TcpHeaderLength = tcpHeaderLength,
            GsoSize = payload,
            PayloadLength = payload,
            NextSequence = sequence + (uint)payload,
        };
    }

    private static bool CanAppend(ReadOnlySpan<ArraySegment<byte>> packets, ref Item item, ReadOnlySpan<byte> packet,
        int ipHeaderLength, int tcpHeaderLength, int payload, uint sequence)
    {
        if (item.Ended || item.Count == MaxSegments || sequence != item.NextSequence || payload > item.GsoSize)
            return false;
        if (tcpHeaderLength != item.TcpHeaderLength || ipHeaderLength != item.IpHeaderLength)
            return false;
        if (ipHeaderLength + tcpHeaderLength + item.PayloadLength + payload > MaxLength)
            return false;
        ReadOnlySpan<byte> head = packets[item.Head];
        if (!IpHeadersMatch(head, packet))
            return false;
        // ACK number, header length, flags (ACK or ACK+PSH, PSH may end the run) and window as the head's.
        var a = head[ipHeaderLength..];
        var b = packet[ipHeaderLength..];
        if (!a.Slice(8, 5).SequenceEqual(b.Slice(8, 5)) || !a.Slice(14, 2).SequenceEqual(b.Slice(14, 2)))
            return false;
        if (!a[20..tcpHeaderLength].SequenceEqual(b[20..tcpHeaderLength]))
            return false;
        return ChecksumValid(packet, ipHeaderLength);
    }

    private static bool IpHeadersMatch(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        if (a[0] >> 4 == 6)
        {
            // Traffic class and flow label, hop limit.
            return a[0] == b[0] && a[1] == b[1] && a.Slice(2, 2).SequenceEqual(b.Slice(2, 2)) && a[7] == b[7];
        }
        // TOS, DF (MF and offsets are excluded earlier), TTL; options must match byte for byte.
        var ihl = (a[0] & 0x0f) * 4;
        return a[1] == b[1] && (a[6] & 0xe0) == (b[6] & 0xe0) && a[8] == b[8] && a[20..ihl].SequenceEqual(b[20..ihl]);
    }

    /// <summary>The open run of the packet's flow (addresses and ports as an earlier packet's), or -1.</summary>
    private int FindOpen(ReadOnlySpan<ArraySegment<byte>> packets, ReadOnlySpan<byte> packet, int ipHeaderLength)
    {
        var v4 = packet[0] >> 4 == 4;
        var addresses = v4 ? packet.Slice(12, 8) : packet.Slice(8, 32);
        var ports = packet.Slice(ipHeaderLength, 4);
        for (var k = 0; k < _openCount; k++)
        {
            ReadOnlySpan<byte> head = packets[_open[k].Head];
            if (head[0] >> 4 != packet[0] >> 4 || _open[k].IpHeaderLength != ipHeaderLength)
                continue;
            var headAddresses = v4 ? head.Slice(12, 8) : head.Slice(8, 32);
            if (headAddresses.SequenceEqual(addresses) && head.Slice(ipHeaderLength, 4).SequenceEqual(ports))
                return k;
        }
        return -1;
    }

    private void Close(int open) => _open[open] = _open[--_openCount];

    /// <summary>
    /// False for anything but a whole, unfragmented TCP packet; <paramref name="candidate"/> tells whether it may
    /// join a super-packet (ACK or ACK+PSH with payload).
    /// </summary>
    private static bool TryParse(ReadOnlySpan<byte> packet, out int ipHeaderLength, out int tcpHeaderLength, out bool candidate)
    {
        ipHeaderLength = tcpHeaderLength = 0;
        candidate = false;
        if (packet.Length < 40)
            return false;
        switch (packet[0] >> 4)
        {
            case 4:
                ipHeaderLength = (packet[0] & 0x0f) * 4;
                if (ipHeaderLength < 20 || packet[9] != ProtocolTcp || BinaryPrimitives.ReadUInt16BigEndian(packet[2..]) != packet.Length)
                    return false;
                // MF set or a fragment offset: not a whole segment.
                if ((BinaryPrimitives.ReadUInt16BigEndian(packet[6..]) & 0x3fff) != 0)
                    return false;
                break;
            case 6:
                ipHeaderLength = 40;
                if (packet.Length < 60 || packet[6] != ProtocolTcp || BinaryPrimitives.ReadUInt16BigEndian(packet[4..]) + 40 != packet.Length)
                    return false;
                break;
            default:
                return false;
        }
        if (packet.Length < ipHeaderLength + 20)
            return false;
        tcpHeaderLength = (packet[ipHeaderLength + 12] >> 4) * 4;
        if (tcpHeaderLength < 20 || packet.Length < ipHeaderLength + tcpHeaderLength)
            return false;
        var flags = packet[ipHeaderLength + 13];
        candidate = (flags == TcpAck || flags == (TcpAck | TcpPsh)) && packet.Length > ipHeaderLength + tcpHeaderLength;
        return true;
    }

    private static bool ChecksumValid(ReadOnlySpan<byte> packet, int ipHeaderLength)
    {
        var v4 = packet[0] >> 4 == 4;
        var addressLength = v4 ? 4 : 16;
        var addresses = v4 ? 12 : 8;
        var sum = InternetChecksum.PseudoHeader(
            packet.Slice(addresses, addressLength), packet.Slice(addresses + addressLength, addressLength), ProtocolTcp, packet.Length - ipHeaderLength);
        return InternetChecksum.Fold(InternetChecksum.Add(packet[ipHeaderLength..], sum)) == 0xffff;
    }
}
