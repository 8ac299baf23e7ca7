namespace Portcullis.Linux.Nftables;

/// <summary>
/// Where flows of one port mapping are addressed in their original direction: address (a <see cref="FlowAddress"/>
/// value), protocol number (6 TCP, 17 UDP), port. The key of <see cref="ConntrackFlowIndex"/>.
/// </summary>
public readonly record struct FlowKey(UInt128 Address, byte Protocol, ushort Port);

/// <summary>
/// Addresses of both families as one 128-bit value, so a flow is a fixed-size value whatever its family and reading an
/// event allocates nothing: an IPv6 address read big-endian, an IPv4 address as its IPv4-mapped IPv6 form
/// (::ffff:a.b.c.d). No IPv6 flow has such an address (RFC 4291 §2.5.5.2: never on the wire; Linux drops packets
/// sourced from one), so the form names the family too.
/// </summary>
public static class FlowAddress
{
    private static readonly UInt128 MappedPrefix = (UInt128)0xffff << 32;
    private static readonly UInt128 MappedMask = ~(UInt128)uint.MaxValue;

    /// <summary>An IPv4 address read big-endian into a number.</summary>
    public static UInt128 V4(uint address) => MappedPrefix | address;

    /// <summary>Whether <paramref name="address"/> stands for an IPv4 address (see <see cref="V4"/>).</summary>
    public static bool IsV4(UInt128 address) => (address & MappedMask) == MappedPrefix;

    /// <summary>The IPv4 address as a big-endian number (meaningful only when <see cref="IsV4"/>).</summary>
    public static uint ToV4(UInt128 address) => (uint)address;

    /// <summary>The value of an IPv4 or IPv6 address; an IPv4-mapped IPv6 one is taken as its IPv4 address.</summary>
    public static UInt128 Of(System.Net.IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        Span<byte> bytes = stackalloc byte[16];
        if (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
        {
            address.TryWriteBytes(bytes, out _);
            return V4(System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes));
        }
        if (address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
            throw new ArgumentException("only IPv4 and IPv6 addresses are tracked", nameof(address));
        address.TryWriteBytes(bytes, out _);
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt128BigEndian(bytes);
    }

    /// <summary>The address <paramref name="address"/> stands for.</summary>
    public static System.Net.IPAddress ToAddress(UInt128 address)
    {
        if (IsV4(address))
            return new System.Net.IPAddress(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(ToV4(address)));
        Span<byte> bytes = stackalloc byte[16];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt128BigEndian(bytes, address);
        return new System.Net.IPAddress(bytes);
    }
}

/// <summary>
/// A destination and where a mapping sent its flows (after DNAT: the reply source, tunnel address and internal port;
/// <see cref="FlowAddress"/> values). <see cref="Target"/> 0 stands for "wherever they were sent".
/// </summary>
public readonly record struct MappingTarget(FlowKey Key, UInt128 Target, ushort TargetPort)
{
    /// <summary>Whether <paramref name="flow"/> was carried here: its destination, and (if known) this target.</summary>
    public bool Carried(in TrackedFlow flow) =>
        flow.Key == Key && (Target == 0 || (flow.ReplySource == Target && flow.ReplySourcePort == TargetPort));
}

/// <summary>
/// One tracked connection exactly as ctnetlink names it: the original tuple, where the reply comes from (after DNAT,
/// the address and port it was forwarded to), the conntrack zone and the kernel's id of this entry. Deleting by
/// tuple, zone and id removes exactly this entry and never a newer one that happens to reuse the tuple.
/// Addresses are <see cref="FlowAddress"/> values (IPv4 or IPv6; one flow's are all of one family).
/// </summary>
public readonly record struct TrackedFlow(
    byte Protocol,
    UInt128 Source,
    ushort SourcePort,
    UInt128 Destination,
    ushort DestinationPort,
    UInt128 ReplySource,
    ushort ReplySourcePort,
    ushort Zone,
    uint Id)
{
    /// <summary>The flow was destination-NATed: its replies come from elsewhere than where it was sent (a mapping's).</summary>
    public bool IsDestinationNatted => ReplySource != Destination || ReplySourcePort != DestinationPort;

    /// <summary>Whether this is an IPv4 flow (else IPv6).</summary>
    public bool IsV4 => FlowAddress.IsV4(Destination);

    /// <summary>The original destination: the mapping that carried the flow, if any.</summary>
    public FlowKey Key => new(Destination, Protocol, DestinationPort);
}

/// <summary>What a conntrack event says happened to a flow.</summary>
public enum ConntrackEventKind : byte
{
    /// <summary>A flow was confirmed (its first packet passed, NAT decided).</summary>
    New,

    /// <summary>A flow's entry was removed: timed out, ended, or deleted.</summary>
    Destroy,
}

/// <summary>One parsed ctnetlink event: a value, so reading events allocates nothing per event.</summary>
public readonly record struct ConntrackEvent(ConntrackEventKind Kind, TrackedFlow Flow);

/// <summary>
/// A removed mapping as the reaper needs it: its public destination, and where it sent flows (tunnel address and
/// internal port) — null <see cref="Target"/> for "wherever".
/// </summary>
public readonly record struct EndedMapping(OriginalDestination Destination, System.Net.IPAddress? Target, ushort TargetPort);
