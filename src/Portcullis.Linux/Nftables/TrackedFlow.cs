namespace Portcullis.Linux.Nftables;

/// <summary>
/// Where flows of one port mapping are addressed in their original direction: IPv4 address (as read big-endian into a
/// number), protocol number (6 TCP, 17 UDP), port. The key of <see cref="ConntrackFlowIndex"/>.
/// </summary>
public readonly record struct FlowKey(uint Address, byte Protocol, ushort Port);

/// <summary>
/// A destination and where a mapping sent its flows (after DNAT: the reply source, tunnel address and internal port;
/// addresses read big-endian into numbers). <see cref="Target"/> 0 stands for "wherever they were sent".
/// </summary>
public readonly record struct MappingTarget(FlowKey Key, uint Target, ushort TargetPort)
{
    /// <summary>Whether <paramref name="flow"/> was carried here: its destination, and (if known) this target.</summary>
    public bool Carried(in TrackedFlow flow) =>
        flow.Key == Key && (Target == 0 || (flow.ReplySource == Target && flow.ReplySourcePort == TargetPort));
}

/// <summary>
/// One tracked connection exactly as ctnetlink names it: the original tuple, where the reply comes from (after DNAT,
/// the address and port it was forwarded to), the conntrack zone and the kernel's id of this entry. Deleting by
/// tuple, zone and id removes exactly this entry and never a newer one that happens to reuse the tuple.
/// Addresses are IPv4 read big-endian into a number.
/// </summary>
public readonly record struct TrackedFlow(
    byte Protocol,
    uint Source,
    ushort SourcePort,
    uint Destination,
    ushort DestinationPort,
    uint ReplySource,
    ushort ReplySourcePort,
    ushort Zone,
    uint Id)
{
    /// <summary>The flow was destination-NATed: its replies come from elsewhere than where it was sent (a mapping's).</summary>
    public bool IsDestinationNatted => ReplySource != Destination || ReplySourcePort != DestinationPort;

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
