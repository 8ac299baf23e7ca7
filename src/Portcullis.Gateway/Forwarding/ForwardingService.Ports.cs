using System.Net;
using System.Security.Cryptography;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Forwarding;

// Choosing an external port (DESIGN §3.4): the gateway chooses, at random within the range; a suggestion counts
// only where policy allows it, and a peer's own remembered port comes back to it after a reconnect, and the port
// it holds for the other protocol is its for the asking.
public sealed partial class ForwardingService
{
    // Random draws before walking the range: while it is under half full, 32 draws all miss with p < 2.4e-10,
    // so only a crowded range pays for the walk.
    private const int RandomDraws = 32;

    // Ports the gateway itself listens on at its public addresses (its WireGuard port): the kernel never DNATs
    // them, so a mapping there could not work.
    private readonly HashSet<(MappingProtocol, ushort)> _ownPorts = [];

    /// <summary>
    /// Keeps <paramref name="port"/> out of every dynamic mapping: the gateway listens on it itself (the host
    /// passes its WireGuard listen port, UDP).
    /// </summary>
    public void ReserveOwnPort(MappingProtocol protocol, ushort port)
    {
        lock (_lock)
            _ownPorts.Add((protocol, port));
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

        ushort remembered = 0;
        if (_remembered.TryGet(new LeaseKey(peer.PeerId, protocol, request.InternalPort), now, out var previous)
            && previous.Address.Equals(peer.PublicAddress))
            remembered = previous.Port;

        var suggested = request.SuggestedExternalPort;
        if (suggested != 0 && (policy.AllowSuggestedPort || suggested == remembered || HoldsForOtherProtocol(peer, protocol, suggested))
            && IsAvailableLocked(peer, protocol, suggested, now))
        {
            port = suggested;
            return MapStatus.Success;
        }
        if (suggested != 0 && request.PreferFailure)
            return MapStatus.CannotProvideExternal;

        if (remembered != 0 && IsAvailableLocked(peer, protocol, remembered, now))
        {
            port = remembered;
            return MapStatus.Success;
        }
        return TryRandomPortLocked(peer, protocol, now, out port) ? MapStatus.Success : MapStatus.NoResources;
    }

    // A client asking for UDP on the port it already holds for TCP (or the reverse) wants one number for both
    // (`portcullis connect --forward both`, games, BitTorrent): that reveals nothing a scanner could not already see.
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
            if (IsAvailableLocked(peer, protocol, port, now))
                return true;
        }
        // Crowded: walk the whole range once from a random start, so a free port is found whenever there is one.
        var start = NextRandom(range.Count);
        for (var i = 0; i < range.Count; i++)
        {
            port = (ushort)(range.First + ((start + i) % range.Count));
            if (IsAvailableLocked(peer, protocol, port, now))
                return true;
        }
        port = 0;
        return false;
    }

    /// <summary>
    /// In range, not blocked, not the gateway's own, held on no public address nor the peer's own (live, pending removal, any static
    /// forward, live or dark), not quarantined for another peer.
    /// </summary>
    private bool IsAvailableLocked(PeerSession peer, MappingProtocol protocol, ushort port, TimeSpan now)
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
        return !_quarantine.TryGet((protocol, port), now, out var releasedBy)
            || string.Equals(releasedBy, peer.PeerId, StringComparison.Ordinal);
    }

    private bool IsHeldLocked(PortKey key) =>
        _byPort.ContainsKey(key) || _pendingRemovals.ContainsKey(key) || IsStaticPortLocked(key);

    private int NextRandom(int exclusiveMax) =>
        _random is null ? RandomNumberGenerator.GetInt32(exclusiveMax) : _random.Next(exclusiveMax);

    private static bool IsUnspecified(IPAddress address) =>
        address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)
        || (address.IsIPv4MappedToIPv6 && address.MapToIPv4().Equals(IPAddress.Any));
}
