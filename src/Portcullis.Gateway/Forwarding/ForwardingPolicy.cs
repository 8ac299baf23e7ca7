using System.Collections.Frozen;

namespace Portcullis.Gateway.Forwarding;

/// <summary>
/// What the forwarding service grants: who may have which port, for how long, how often. Applied live through
/// <see cref="ForwardingService.UpdatePolicy"/>.
/// </summary>
public sealed record ForwardingPolicy
{
    /// <summary>
    /// Ports no mapping may use, on either side, by default. The default <see cref="PortRange"/> already excludes
    /// them all; the list matters when an operator widens the range, and always for the internal side, where a
    /// client's app could otherwise expose a service that should never face the internet:
    /// 19 chargen, 53 DNS, 123 NTP, 161 SNMP, 1900 SSDP, 11211 memcached — UDP reflection/amplification sources
    /// that get a shared address onto abuse lists; 25 SMTP — spam relays, and the first port providers are
    /// asked to block; 135–139 and 445 — Windows RPC, NetBIOS and SMB, the worm ports; 5351 — NAT-PMP/PCP itself,
    /// which must never be forwarded away from the gateway.
    /// </summary>
    public static readonly FrozenSet<ushort> DefaultBlockedPorts =
        FrozenSet.ToFrozenSet<ushort>([19, 25, 53, 123, 135, 136, 137, 138, 139, 161, 445, 1900, 5351, 11211]);

    /// <summary>
    /// Whether this server offers port forwarding at all. Defaults to true. False refuses every request
    /// (<c>NotAuthorized</c>) and removes the dynamic mappings that exist.
    /// </summary>
    public bool Enabled { get; init; } = true;

    /// <summary>
    /// Where external ports are chosen. Defaults to 20000–59999: clear of the well-known ports and the service
    /// ports scanners try first, and wide enough (40 000 ports) that a random choice hides which ones are in use.
    /// Masqueraded outbound flows may use the same ports: conntrack tells their replies from new inbound
    /// connections.
    /// </summary>
    public PortRange PortRange { get; init; } = new(20000, 59999);

    /// <summary>
    /// Dynamic mappings one peer may hold at once, TCP and UDP counted apart. Defaults to 4: a torrent client
    /// (TCP + UDP) and one more service, while a range of 40 000 ports still serves 10 000 peers.
    /// </summary>
    public int MaxPerPeer { get; init; } = 4;

    /// <summary>
    /// Remote-peer filters (PCP FILTER) one mapping may hold; a request with more is refused
    /// (<c>ExcessiveRemotePeers</c>). Defaults to 8: a few friends' addresses or networks. Each filter is one kernel
    /// element and one lookup range; 0 refuses filtered mappings altogether.
    /// </summary>
    public int MaxFiltersPerMapping { get; init; } = 8;

    /// <summary>The most <see cref="MaxFiltersPerMapping"/> may be: as many FILTER options as fit in one 1100-byte PCP request beside the MAP data.</summary>
    public const int MaxFiltersPerMappingLimit = 43;

    /// <summary>
    /// Shortest lease granted; shorter requests are raised to it. Defaults to 120 s (RFC 6887 §15 suggests at
    /// least that much): shorter leases buy nothing but refresh traffic.
    /// </summary>
    public TimeSpan MinLifetime { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>
    /// Longest lease granted; longer requests are cut to it. Defaults to 3600 s, the NAT-PMP default request
    /// (natpmpc, Transmission), so common clients get what they ask. Longer would let a mapping outlive an app
    /// that quit without deleting it; a peer's session ending removes its mappings regardless.
    /// </summary>
    public TimeSpan MaxLifetime { get; init; } = TimeSpan.FromSeconds(3600);

    /// <summary>External ports never handed out. Defaults to <see cref="DefaultBlockedPorts"/>.</summary>
    public IReadOnlySet<ushort> BlockedExternalPorts { get; init; } = DefaultBlockedPorts;

    /// <summary>
    /// Internal (client-side) ports no mapping may point at; a request for one is refused (<c>NotAuthorized</c>).
    /// Defaults to <see cref="DefaultBlockedPorts"/>.
    /// </summary>
    public IReadOnlySet<ushort> BlockedInternalPorts { get; init; } = DefaultBlockedPorts;

    /// <summary>
    /// Sustained map/delete requests per second per peer; past it requests get <c>NoResources</c>. Defaults to
    /// 5: clients renew once per half-lease, so this only bites a loop or an attempt to walk the range.
    /// </summary>
    public int RequestsPerSecond { get; init; } = 5;

    /// <summary>
    /// Requests a quiet peer may make at once. Defaults to 20: a client mapping its whole quota for TCP and UDP,
    /// with a public-address query and a retry or two, at start.
    /// </summary>
    public int Burst { get; init; } = 20;

    /// <summary>
    /// How long a released port is withheld from every other peer. Defaults to 10 minutes, so connections
    /// aimed at the old owner (a peer list, a DNS record) fade instead of reaching a stranger, and so a
    /// reconnecting owner finds its port free. Keep it at least <see cref="ReconnectGrace"/>.
    /// </summary>
    public TimeSpan Quarantine { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// A peer whose session ended (or whose lease lapsed) and that asks again within this long for the same
    /// protocol and internal port gets its previous external port back, if still free. Defaults to 10 minutes:
    /// roaming, a reboot or a client restart, the reconnect survival users ask for.
    /// </summary>
    public TimeSpan ReconnectGrace { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Whether a client's suggested external port is honoured when free and allowed. Defaults to false: the
    /// gateway's random choice is what keeps a peer from claiming a port another peer's contacts still dial, and
    /// keeps ports unpredictable to scanners. A suggestion equal to the peer's own remembered port is honoured
    /// either way. True suits a gateway whose users want memorable ports and trust one another.
    /// </summary>
    public bool AllowSuggestedPort { get; init; }

    /// <summary>
    /// Forward every TCP and UDP port of a dedicated public address to its peer, on the same port, while the peer's
    /// session is live — except the ports in <see cref="BlockedExternalPorts"/> and <see cref="BlockedInternalPorts"/>,
    /// and except ports a mapping on that address holds (the mapping wins). Defaults to false: a dedicated address
    /// then forwards only what its peer maps or has statically, like a shared one. True gives the peer what no
    /// shared-address user can have — its own address, open as if it sat on the internet — with the exposure that
    /// implies: every service the peer listens on faces the internet, so its own firewall must be right. The gateway's
    /// own services on that address are no longer reachable from outside. Has no effect while <see cref="Enabled"/> is
    /// false.
    /// </summary>
    public bool ForwardAllDedicatedPorts { get; init; }

    /// <summary>
    /// Log every mapping created and removed with its peer id, ports and address. Defaults to false, and should
    /// stay so: these lines link a public port to a peer, which is what the gateway otherwise never records.
    /// Turn on only with a log sink whose retention you have decided.
    /// </summary>
    public bool AuditLog { get; init; }

    /// <summary>
    /// How long the audit trail (<see cref="AuditLog"/>) keeps a record after its mapping ended; the gateway deletes
    /// older ones itself. Defaults to 7 days: long enough to answer an abuse report, which usually arrives within days,
    /// short enough that the trail is not a history of who used which port.
    /// </summary>
    public TimeSpan AuditRetention { get; init; } = TimeSpan.FromDays(7);

    /// <summary>
    /// New inbound connections per second each forward accepts (burst as many); the next within the second is dropped
    /// and counted. Defaults to 0, no limit. A few hundred leaves any honest service alone and stops a flood that
    /// would otherwise fill the peer's link or its conntrack share.
    /// </summary>
    public int InboundNewPerSecond { get; init; }

    /// <summary>
    /// Inbound connections each forward may hold at once; one more is dropped and counted. Defaults to 0, no limit.
    /// </summary>
    public int InboundMaxConnections { get; init; }

    /// <summary>The kernel's form of <see cref="InboundNewPerSecond"/> and <see cref="InboundMaxConnections"/>.</summary>
    public InboundLimits InboundLimits => new(InboundNewPerSecond, InboundMaxConnections);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting that makes no sense.</summary>
    public void Validate()
    {
        if (PortRange.First == 0)
            throw new ArgumentException("PortRange must be set (1 <= first <= last).", nameof(PortRange));
        if (MaxPerPeer < 0)
            throw new ArgumentException("MaxPerPeer must not be negative.", nameof(MaxPerPeer));
        if (MaxFiltersPerMapping is < 0 or > MaxFiltersPerMappingLimit)
            throw new ArgumentException($"MaxFiltersPerMapping must lie between 0 and {MaxFiltersPerMappingLimit}.", nameof(MaxFiltersPerMapping));
        if (MinLifetime <= TimeSpan.Zero || MinLifetime > MaxLifetime)
            throw new ArgumentException("Lifetimes must satisfy 0 < MinLifetime <= MaxLifetime.", nameof(MinLifetime));
        if (MaxLifetime > TimeSpan.FromSeconds(uint.MaxValue))
            throw new ArgumentException("MaxLifetime must fit a 32-bit count of seconds.", nameof(MaxLifetime));
        if (RequestsPerSecond < 1 || Burst < 1)
            throw new ArgumentException("RequestsPerSecond and Burst must be at least 1.", nameof(RequestsPerSecond));
        if (Quarantine < TimeSpan.Zero || ReconnectGrace < TimeSpan.Zero)
            throw new ArgumentException("Quarantine and ReconnectGrace must not be negative.", nameof(Quarantine));
        if (AuditRetention <= TimeSpan.Zero)
            throw new ArgumentException("AuditRetention must be positive.", nameof(AuditRetention));
        InboundLimits.Validate();
        ArgumentNullException.ThrowIfNull(BlockedExternalPorts);
        ArgumentNullException.ThrowIfNull(BlockedInternalPorts);
    }
}
