using System.Net;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Portcullis.Core.Net;
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

/// <summary>
/// The port allocator. Owns the gateway's own ports, the memory of released ports (<see cref="PortMemory"/>: the
/// quarantine and the ports remembered for a reconnect), and the randomness; knows nothing of the kernel. Asks the
/// rest of the service one question, who holds a key (<c>ownerOf</c>: a live mapping, a create in the running batch,
/// a pending removal, a static forward). Not thread-safe: the service's lock guards it.
/// </summary>
internal sealed class PortAllocator
{
    // Random draws before walking the range: while it is under half full, 32 draws all miss with p < 2.4e-10,
    // so only a crowded range pays for the walk.
    private const int RandomDraws = 32;

    // An array, not an interface: foreach over an IReadOnlyList boxes its enumerator, here per port tried.
    private readonly IPAddress[] _publicAddresses;
    private readonly Func<PortKey, string?> _ownerOf;
    private readonly Random? _random;
    private readonly ILogger _logger;
    // Ports the gateway itself listens on at its public addresses (its WireGuard port): the kernel never DNATs
    // them, so a mapping there could not work.
    private readonly HashSet<(MappingProtocol, ushort)> _ownPorts = [];
    private readonly PortMemory _memory = new();

    /// <param name="publicAddresses">The shared public addresses: a port is free only when free on all of them.</param>
    /// <param name="ownerOf">Who holds a key, or null when nobody does.</param>
    /// <param name="random">Port choice for tests; null draws from <see cref="RandomNumberGenerator"/>.</param>
    public PortAllocator(IReadOnlyList<IPAddress> publicAddresses, Func<PortKey, string?> ownerOf, Random? random, ILogger logger)
    {
        _publicAddresses = [.. publicAddresses];
        _ownerOf = ownerOf;
        _random = random;
        _logger = logger;
    }

    /// <summary>Mappings that got another port than their pair's, because another owner held it for this protocol.</summary>
    public long SplitPairs { get; private set; }

    /// <summary>Ports withheld from other peers now (after dropping lapsed ones).</summary>
    public int QuarantinedCount(TimeSpan now) => _memory.QuarantinedCount(now);

    /// <summary>Keeps the port out of every choice (and its other protocol out of random choice).</summary>
    public void ReserveOwnPort(MappingProtocol protocol, ushort port) => _ownPorts.Add((protocol, port));

    /// <summary>A mapping was released: its port is quarantined against other peers, and remembered for its peer.</summary>
    public void Released(Mapping mapping, bool remember, ForwardingPolicy policy, TimeSpan now) =>
        _memory.Released(mapping, remember, policy, now);

    /// <summary>A lease for the key was granted: the remembered port has served.</summary>
    public void Granted(LeaseKey lease) => _memory.Granted(lease);

    public void Sweep(TimeSpan now) => _memory.Sweep(now);

    /// <summary>A port for a new mapping of <paramref name="peer"/>, or the status that says why there is none.</summary>
    public MapStatus Choose(PeerSession peer, MapRequest request, ForwardingPolicy policy, TimeSpan now, out ushort port)
    {
        port = 0;
        var protocol = request.Protocol;

        // Another public address can only be given by a dedicated-address policy (a later issue).
        var wantsOtherAddress = request.SuggestedExternalAddress is { } wanted && !IsUnspecified(wanted)
            && !wanted.Unmapped().Equals(peer.PublicAddress);
        if (wantsOtherAddress && request.PreferFailure)
            return MapStatus.CannotProvideExternal;

        var suggested = request.SuggestedExternalPort;
        var pair = peer.Find(Other(protocol), request.InternalPort);
        var split = false;
        // PREFER_FAILURE for another port is the one request that means "that port or none" over the pair.
        if (pair is not null && (suggested == 0 || suggested == pair.PublicPort || !request.PreferFailure))
        {
            if (IsFree(peer, protocol, pair.PublicPort, policy, now))
            {
                port = pair.PublicPort;
                return MapStatus.Success;
            }
            split = true;
        }

        var remembered = _memory.RememberedPort(peer, protocol, request.InternalPort, now);
        var status = ChooseUnpaired(peer, request, suggested, remembered, policy, now, out port);
        if (split && status == MapStatus.Success)
            CountSplit(peer, protocol, pair!.PublicPort, port, policy);
        return status;
    }

    /// <summary>
    /// A port for a new PEER mapping: from the same keys as MAP's, so the two never collide, but neither paired with
    /// nor remembered for the internal port (those belong to its MAP mappings).
    /// </summary>
    public MapStatus ChooseOutbound(PeerSession peer, MapRequest request, ForwardingPolicy policy, TimeSpan now, out ushort port)
    {
        port = 0;
        var wantsOtherAddress = request.SuggestedExternalAddress is { } wanted && !IsUnspecified(wanted)
            && !wanted.Unmapped().Equals(peer.PublicAddress);
        if (wantsOtherAddress && request.PreferFailure)
            return MapStatus.CannotProvideExternal;
        return ChooseUnpaired(peer, request, request.SuggestedExternalPort, remembered: 0, policy, now, out port);
    }

    private MapStatus ChooseUnpaired(PeerSession peer, MapRequest request, ushort suggested, ushort remembered, ForwardingPolicy policy, TimeSpan now, out ushort port)
    {
        var protocol = request.Protocol;
        if (suggested != 0 && (policy.AllowSuggestedPort || suggested == remembered || HoldsForOtherProtocol(peer, protocol, suggested))
            && IsFreeForPeer(peer, protocol, suggested, policy, now))
        {
            port = suggested;
            return MapStatus.Success;
        }
        port = 0;
        if (suggested != 0 && request.PreferFailure)
            return MapStatus.CannotProvideExternal;

        if (remembered != 0 && IsFreeForPeer(peer, protocol, remembered, policy, now))
        {
            port = remembered;
            return MapStatus.Success;
        }
        return TryRandomPort(peer, protocol, policy, now, out port) ? MapStatus.Success : MapStatus.NoResources;
    }

    // A client asking for UDP on the port it already holds for TCP (or the reverse) wants one number for both,
    // even for another internal port: that reveals nothing a scanner could not already see.
    private static bool HoldsForOtherProtocol(PeerSession peer, MappingProtocol protocol, ushort port)
    {
        foreach (var mapping in peer.Mappings)
        {
            if (mapping.Owner == peer && mapping.Protocol != protocol && mapping.PublicPort == port)
                return true;
        }
        return false;
    }

    private bool TryRandomPort(PeerSession peer, MappingProtocol protocol, ForwardingPolicy policy, TimeSpan now, out ushort port)
    {
        var range = policy.PortRange;
        for (var draw = 0; draw < RandomDraws; draw++)
        {
            port = (ushort)(range.First + NextRandom(range.Count));
            if (IsPairFree(peer, protocol, port, policy, now))
                return true;
        }
        // Crowded: walk the whole range once from a random start, so a free pair is found whenever there is one.
        var start = NextRandom(range.Count);
        for (var i = 0; i < range.Count; i++)
        {
            port = (ushort)(range.First + ((start + i) % range.Count));
            if (IsPairFree(peer, protocol, port, policy, now))
                return true;
        }
        port = 0;
        return false;
    }

    /// <summary>Free for both protocols: what a port handed out at random must be, so its other half stays possible.</summary>
    private bool IsPairFree(PeerSession peer, MappingProtocol protocol, ushort port, ForwardingPolicy policy, TimeSpan now) =>
        IsFree(peer, protocol, port, policy, now) && IsFree(peer, Other(protocol), port, policy, now);

    /// <summary>Free for this protocol, and its other half held by nobody but this peer: a suggestion or a remembered port.</summary>
    private bool IsFreeForPeer(PeerSession peer, MappingProtocol protocol, ushort port, ForwardingPolicy policy, TimeSpan now) =>
        IsFree(peer, protocol, port, policy, now) && !IsHeldByAnother(peer, Other(protocol), port);

    /// <summary>
    /// In range, not blocked, not the gateway's own, held on no public address nor the peer's own, not quarantined
    /// for another peer.
    /// </summary>
    private bool IsFree(PeerSession peer, MappingProtocol protocol, ushort port, ForwardingPolicy policy, TimeSpan now)
    {
        if (!policy.PortRange.Contains(port) || policy.BlockedExternalPorts.Contains(port) || _ownPorts.Contains((protocol, port)))
            return false;
        foreach (var address in _publicAddresses)
        {
            if (address.AddressFamily == peer.PublicAddress.AddressFamily && _ownerOf(new PortKey(address, protocol, port)) is not null)
                return false;
        }
        if (_ownerOf(new PortKey(peer.PublicAddress, protocol, port)) is not null)
            return false;
        return !_memory.IsQuarantinedFor(port, peer.PeerId, now);
    }

    /// <summary>Whether someone other than <paramref name="peer"/> holds the port for this protocol on any address it could be seen on.</summary>
    private bool IsHeldByAnother(PeerSession peer, MappingProtocol protocol, ushort port)
    {
        foreach (var address in _publicAddresses)
        {
            if (address.AddressFamily == peer.PublicAddress.AddressFamily && _ownerOf(new PortKey(address, protocol, port)) is { } owner && !string.Equals(owner, peer.PeerId, StringComparison.Ordinal))
                return true;
        }
        return _ownerOf(new PortKey(peer.PublicAddress, protocol, port)) is { } own && !string.Equals(own, peer.PeerId, StringComparison.Ordinal);
    }

    private void CountSplit(PeerSession peer, MappingProtocol protocol, ushort pairPort, ushort port, ForwardingPolicy policy)
    {
        SplitPairs++;
        ForwardingLog.PairSplit(_logger, protocol);
        if (policy.AuditLog)
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
