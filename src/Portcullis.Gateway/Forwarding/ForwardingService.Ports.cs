using System.Net;
using System.Security.Cryptography;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Forwarding;

// Choosing an external port (DESIGN §3.4): the gateway chooses, at random within the range; a suggestion counts
// only where policy allows it, and a peer's own remembered port comes back to it after a reconnect.
//
// One number for both protocols: a program that maps its one listen port for TCP and for UDP (BitTorrent engines,
// game servers, VoIP) announces one public port, so the gateway keeps the pair together:
//  1. a random port is handed out only when it is free for TCP and UDP alike, so its other half is always there;
//  2. a request for the other protocol of an internal port the peer already maps gets that mapping's port, with or
//     without a suggestion;
//  3. quarantine is per port (a released port is closed to other peers for both protocols), and a remembered port
//     answers a reconnect for either protocol of its internal port;
//  4. no peer is given a port whose other half another peer holds.
// Only an odd state (an operator's one-protocol static forward on the pair's other half) can split a pair; the
// answer is then a valid mapping on another port, and the split is logged and counted (SplitPairs).
public sealed partial class ForwardingService
{
    // Random draws before walking the range: while it is under half full, 32 draws all miss with p < 2.4e-10,
    // so only a crowded range pays for the walk.
    private const int RandomDraws = 32;

    // Ports the gateway itself listens on at its public addresses (its WireGuard port): the kernel never DNATs
    // them, so a mapping there could not work.
    private readonly HashSet<(MappingProtocol, ushort)> _ownPorts = [];

    private long _splitPairs;

    /// <summary>
    /// Keeps <paramref name="port"/> out of every dynamic mapping: the gateway listens on it itself (the host
    /// passes its WireGuard listen port, UDP). Random choice skips the port for the other protocol too, whose pair
    /// could never be complete.
    /// </summary>
    public void ReserveOwnPort(MappingProtocol protocol, ushort port)
    {
        lock (_lock)
            _ownPorts.Add((protocol, port));
    }

    /// <summary>
    /// How many mappings since start got a different public port than the peer's mapping of the other protocol for
    /// the same internal port, because another owner held that port for this protocol.
    /// </summary>
    public long SplitPairs
    {
        get
        {
            lock (_lock)
                return _splitPairs;
        }
    }

    private MapStatus ChoosePortLocked(PeerSession peer, MapRequest request, out ushort port)
    {
        port = 0;
        var policy = _policy;
        var protocol = request.Protocol;
        var now = Now;

        // Another public address can only be given by a dedicated-address policy (a later issue).
        var wantsOtherAddress = request.SuggestedExternalAddress is { } wanted && !IsUnspecified(wanted)
            && !Normalize(wanted).Equals(peer.PublicAddress);
        if (wantsOtherAddress && request.PreferFailure)
            return MapStatus.CannotProvideExternal;

        var suggested = request.SuggestedExternalPort;
        var pair = peer.Find(Other(protocol), request.InternalPort);
        var split = false;
        // PREFER_FAILURE for another port is the one request that means "that port or none" over the pair.
        if (pair is not null && (suggested == 0 || suggested == pair.PublicPort || !request.PreferFailure))
        {
            if (IsFreeLocked(peer, protocol, pair.PublicPort, now))
            {
                port = pair.PublicPort;
                return MapStatus.Success;
            }
            split = true;
        }

        var remembered = RememberedPortLocked(peer, protocol, request.InternalPort, now);
        var status = ChooseUnpairedLocked(peer, request, suggested, remembered, now, out port);
        if (split && status == MapStatus.Success)
            CountSplitLocked(peer, protocol, pair!.PublicPort, port);
        return status;
    }

    private MapStatus ChooseUnpairedLocked(PeerSession peer, MapRequest request, ushort suggested, ushort remembered, TimeSpan now, out ushort port)
    {
        var protocol = request.Protocol;
        if (suggested != 0 && (_policy.AllowSuggestedPort || suggested == remembered || HoldsForOtherProtocol(peer, protocol, suggested))
            && IsFreeForPeerLocked(peer, protocol, suggested, now))
        {
            port = suggested;
            return MapStatus.Success;
        }
        port = 0;
        if (suggested != 0 && request.PreferFailure)
            return MapStatus.CannotProvideExternal;

        if (remembered != 0 && IsFreeForPeerLocked(peer, protocol, remembered, now))
        {
            port = remembered;
            return MapStatus.Success;
        }
        return TryRandomPortLocked(peer, protocol, now, out port) ? MapStatus.Success : MapStatus.NoResources;
    }

    /// <summary>
    /// The port this peer held for the internal port before its reconnect or expiry, on its public address: its own
    /// for this protocol, else the one it held for the other protocol (a pair comes back as a pair).
    /// </summary>
    private ushort RememberedPortLocked(PeerSession peer, MappingProtocol protocol, ushort internalPort, TimeSpan now)
    {
        foreach (var candidate in (ReadOnlySpan<MappingProtocol>)[protocol, Other(protocol)])
        {
            if (_remembered.TryGet(new LeaseKey(peer.PeerId, candidate, internalPort), now, out var previous)
                && previous.Address.Equals(peer.PublicAddress))
                return previous.Port;
        }
        return 0;
    }

    // A client asking for UDP on the port it already holds for TCP (or the reverse) wants one number for both,
    // even for another internal port: that reveals nothing a scanner could not already see.
    private static bool HoldsForOtherProtocol(PeerSession peer, MappingProtocol protocol, ushort port)
    {
        foreach (var mapping in peer.Mappings)
        {
            if (mapping.Protocol != protocol && mapping.PublicPort == port)
                return true;
        }
        return false;
    }

    private bool TryRandomPortLocked(PeerSession peer, MappingProtocol protocol, TimeSpan now, out ushort port)
    {
        var range = _policy.PortRange;
        for (var draw = 0; draw < RandomDraws; draw++)
        {
            port = (ushort)(range.First + NextRandom(range.Count));
            if (IsPairFreeLocked(peer, protocol, port, now))
                return true;
        }
        // Crowded: walk the whole range once from a random start, so a free pair is found whenever there is one.
        var start = NextRandom(range.Count);
        for (var i = 0; i < range.Count; i++)
        {
            port = (ushort)(range.First + ((start + i) % range.Count));
            if (IsPairFreeLocked(peer, protocol, port, now))
                return true;
        }
        port = 0;
        return false;
    }

    /// <summary>Free for both protocols: what a port handed out at random must be, so its other half stays possible.</summary>
    private bool IsPairFreeLocked(PeerSession peer, MappingProtocol protocol, ushort port, TimeSpan now) =>
        IsFreeLocked(peer, protocol, port, now) && IsFreeLocked(peer, Other(protocol), port, now);

    /// <summary>Free for this protocol, and its other half held by nobody but this peer: a suggestion or a remembered port.</summary>
    private bool IsFreeForPeerLocked(PeerSession peer, MappingProtocol protocol, ushort port, TimeSpan now) =>
        IsFreeLocked(peer, protocol, port, now) && !IsHeldByAnotherLocked(peer, Other(protocol), port);

    /// <summary>
    /// In range, not blocked, not the gateway's own, held on no public address nor the peer's own (live, pending removal, any static
    /// forward, live or dark), not quarantined for another peer.
    /// </summary>
    private bool IsFreeLocked(PeerSession peer, MappingProtocol protocol, ushort port, TimeSpan now)
    {
        var policy = _policy;
        if (!policy.PortRange.Contains(port) || policy.BlockedExternalPorts.Contains(port) || _ownPorts.Contains((protocol, port)))
            return false;
        foreach (var address in _publicAddresses)
        {
            if (IsHeldLocked(new PortKey(address, protocol, port)))
                return false;
        }
        if (IsHeldLocked(new PortKey(peer.PublicAddress, protocol, port)))
            return false;
        return !_quarantine.TryGet(port, now, out var releasedBy)
            || string.Equals(releasedBy, peer.PeerId, StringComparison.Ordinal);
    }

    private bool IsHeldLocked(PortKey key) => OwnerOfLocked(key) is not null;

    /// <summary>Whether someone other than <paramref name="peer"/> holds the port for this protocol on any address it could be seen on.</summary>
    private bool IsHeldByAnotherLocked(PeerSession peer, MappingProtocol protocol, ushort port)
    {
        foreach (var address in _publicAddresses)
        {
            if (OwnerOfLocked(new PortKey(address, protocol, port)) is { } owner && !string.Equals(owner, peer.PeerId, StringComparison.Ordinal))
                return true;
        }
        return OwnerOfLocked(new PortKey(peer.PublicAddress, protocol, port)) is { } own && !string.Equals(own, peer.PeerId, StringComparison.Ordinal);
    }

    /// <summary>Who holds the key: a live mapping's peer, a create in the running batch, one pending removal, or a static forward's (live or dark); null when free.</summary>
    private string? OwnerOfLocked(PortKey key) =>
        _byPort.TryGetValue(key, out var mapping) ? mapping.Owner.PeerId
        : _reserved.TryGetValue(key, out var reservedFor) ? reservedFor
        : _pendingRemovals.TryGetValue(key, out var pending) ? pending.Entry.Owner
        : _staticRules.TryGetValue(key, out var rule) ? rule.PeerId
        : null;

    private void CountSplitLocked(PeerSession peer, MappingProtocol protocol, ushort pairPort, ushort port)
    {
        _splitPairs++;
        ForwardingLog.PairSplit(_logger, protocol);
        if (_policy.AuditLog)
            ForwardingLog.AuditPairSplit(_logger, peer.PeerId, protocol, peer.PublicAddress, pairPort, port);
    }

    private static MappingProtocol Other(MappingProtocol protocol) =>
        protocol == MappingProtocol.Tcp ? MappingProtocol.Udp : MappingProtocol.Tcp;

    private int NextRandom(int exclusiveMax) =>
        _random is null ? RandomNumberGenerator.GetInt32(exclusiveMax) : _random.Next(exclusiveMax);

    private static bool IsUnspecified(IPAddress address) =>
        address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)
        || (address.IsIPv4MappedToIPv6 && address.MapToIPv4().Equals(IPAddress.Any));
}
