using Portcullis.PortMapping;

namespace Portcullis.Gateway.Forwarding;

/// <summary>
/// What the port allocator remembers of released ports (DESIGN §3.4): the quarantine that closes a released port to
/// other peers for a while, and the port each peer held for an internal port, offered back on its reconnect.
/// <para>
/// Contract: quarantine is per port number, not per protocol or address (the TCP/UDP pair is one; a peer's IPv4 and
/// IPv6 facets share it), and never closes a port to the peer that released it. A remembered port is spent by the
/// first grant of its lease key, and never remembered for a PEER mapping (its lease key names the MAP of the same
/// internal port). Both lapse at the time the policy gave when set; lapsed entries are invisible at once and dropped
/// by <see cref="Sweep"/>. Knows no table and no session list. Not thread-safe: the service's lock guards it.
/// </para>
/// </summary>
internal sealed class PortMemory
{
    private readonly ExpiringMemory<ushort, string> _quarantine = new();
    private readonly ExpiringMemory<LeaseKey, PortKey> _remembered = new();

    /// <summary>Ports withheld from other peers now (after dropping lapsed ones).</summary>
    public int QuarantinedCount(TimeSpan now)
    {
        _quarantine.Sweep(now);
        return _quarantine.Count;
    }

    /// <summary>A mapping was released: its port is quarantined against other peers, and remembered for its peer.</summary>
    public void Released(Mapping mapping, bool remember, ForwardingPolicy policy, TimeSpan now)
    {
        if (policy.Quarantine > TimeSpan.Zero)
            _quarantine.Set(mapping.PublicPort, mapping.Owner.PeerId, now + policy.Quarantine);
        if (remember && mapping.Remote is null && policy.ReconnectGrace > TimeSpan.Zero)
            _remembered.Set(mapping.LeaseKey, mapping.PortKey, now + policy.ReconnectGrace);
    }

    /// <summary>A lease for the key was granted: the remembered port has served.</summary>
    public void Granted(LeaseKey lease) => _remembered.Remove(lease);

    public void Sweep(TimeSpan now)
    {
        _quarantine.Sweep(now);
        _remembered.Sweep(now);
    }

    /// <summary>Whether the port is quarantined against <paramref name="peerId"/> (released by another peer, not lapsed).</summary>
    public bool IsQuarantinedFor(ushort port, string peerId, TimeSpan now) =>
        _quarantine.TryGet(port, now, out var releasedBy) && !string.Equals(releasedBy, peerId, StringComparison.Ordinal);

    /// <summary>
    /// The port this peer held for the internal port before its reconnect or expiry, on its public address: its own
    /// for this protocol, else the one it held for the other protocol (a pair comes back as a pair); 0 when none.
    /// </summary>
    public ushort RememberedPort(PeerSession peer, MappingProtocol protocol, ushort internalPort, TimeSpan now)
    {
        foreach (var candidate in (ReadOnlySpan<MappingProtocol>)[protocol, Other(protocol)])
        {
            if (_remembered.TryGet(new LeaseKey(peer.PeerId, candidate, internalPort, peer.Primary != peer), now, out var previous)
                && previous.Address.Equals(peer.PublicAddress))
                return previous.Port;
        }
        return 0;
    }

    private static MappingProtocol Other(MappingProtocol protocol) =>
        protocol == MappingProtocol.Tcp ? MappingProtocol.Udp : MappingProtocol.Tcp;
}
