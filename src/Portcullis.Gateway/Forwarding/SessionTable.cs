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

    /// <summary>A new rate limit: every session gets a fresh request bucket (its facet shares it).</summary>
    public void RenewRequestBuckets(Func<TokenBucket> bucket)
    {
        foreach (var session in _byPeer.Values)
            session.Requests = bucket();
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
}
