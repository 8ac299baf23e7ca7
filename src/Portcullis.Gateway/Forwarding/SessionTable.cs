using System.Net;
using Portcullis.Core.RateLimiting;

namespace Portcullis.Gateway.Forwarding;

/// <summary>
/// The live sessions, by peer id and by tunnel address: the only peers that may hold mappings, and the identity of a
/// request (its source address, IPv4 or the IPv6 facet's). One peer has at most one session, one address belongs to at most one peer. Not
/// thread-safe: the service's lock guards it.
/// </summary>
internal sealed class SessionTable
{
    private readonly Dictionary<string, PeerSession> _byPeer = new(StringComparer.Ordinal);
    private readonly Dictionary<IPAddress, PeerSession> _byAddress = [];

    public int Count => _byPeer.Count;

    public Dictionary<string, PeerSession>.ValueCollection All => _byPeer.Values;

    public bool TryGetByPeer(string peerId, out PeerSession session) => _byPeer.TryGetValue(peerId, out session!);

    public bool TryGetByAddress(IPAddress tunnelAddress, out PeerSession session) => _byAddress.TryGetValue(tunnelAddress, out session!);

    /// <summary>A policy with a new rate limit: every session gets a fresh request bucket (its facet shares it).</summary>
    public void PolicyChanged(ForwardingPolicy old, ForwardingPolicy policy, TimeSpan now)
    {
        if (old.RequestsPerSecond == policy.RequestsPerSecond && old.Burst == policy.Burst)
            return;
        foreach (var session in _byPeer.Values)
            session.Requests = NewRequestBucket(policy, now);
    }

    /// <summary>
    /// The sessions a session of <paramref name="peerId"/> at <paramref name="address"/> displaces (its own elsewhere,
    /// another peer's at the address), to be ended first; null when it is live there already.
    /// </summary>
    public List<PeerSession>? Displaced(string peerId, IPAddress address)
    {
        var displaced = new List<PeerSession>(2);
        if (_byPeer.TryGetValue(peerId, out var current))
        {
            if (current.TunnelAddress.Equals(address))
                return null;
            displaced.Add(current);
        }
        if (_byAddress.TryGetValue(address, out var holder) && holder.Primary != current)
            displaced.Add(holder.Primary);
        return displaced;
    }

    /// <summary>
    /// Opens <paramref name="peerId"/>'s session at <paramref name="address"/> (its peer and address must be free), with
    /// its IPv6 facet at the twin address when the tunnel has IPv6 inbound; its mappings appear where
    /// <paramref name="dedicated"/> says (a dedicated address, else a shared one).
    /// </summary>
    public PeerSession Open(string peerId, IPAddress address, ForwardingPolicy policy, TimeSpan now, DedicatedRoutes dedicated, ForwardingIpv6? ipv6)
    {
        var session = new PeerSession(peerId, address, dedicated.PublicAddressFor(peerId), NewRequestBucket(policy, now));
        if (ipv6 is not null && ipv6.Tunnel.Ipv4Prefix.Contains(address))
        {
            var twin = ipv6.Tunnel.Twin(address);
            session.AddIpv6(twin, dedicated.PublicAddress6For(peerId, ipv6, twin), ipv6.Routed);
        }
        Add(session);
        return session;
    }

    /// <summary>Adds a session; its peer and its address must be free (end their sessions first).</summary>
    public void Add(PeerSession session)
    {
        _byPeer.Add(session.PeerId, session);
        _byAddress.Add(session.TunnelAddress, session);
        if (session.Ipv6 is { } facet)
            _byAddress.Add(facet.TunnelAddress, facet);
    }

    public void Remove(PeerSession session)
    {
        _byPeer.Remove(session.PeerId);
        _byAddress.Remove(session.TunnelAddress);
        if (session.Ipv6 is { } facet)
            _byAddress.Remove(facet.TunnelAddress);
    }

    private static TokenBucket NewRequestBucket(ForwardingPolicy policy, TimeSpan now) => new(policy.RequestsPerSecond, policy.Burst, now);
}
