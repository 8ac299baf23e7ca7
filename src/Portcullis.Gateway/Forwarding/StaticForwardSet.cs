using System.Net;
using System.Net.Sockets;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Forwarding;

/// <summary>
/// The static forwards: the rules, known whether or not their peer is connected (their ports are never handed to
/// dynamic allocation, even while dark), and the live entries — the rules of connected peers, as the kernel holds
/// them. The service changes it only after the kernel took the change. Not thread-safe: the service's lock guards it.
/// </summary>
internal sealed class StaticForwardSet
{
    private readonly Dictionary<PortKey, StaticForwardRule> _rules = [];
    private readonly Dictionary<PortKey, ForwardingEntry> _live = [];

    public IReadOnlyDictionary<PortKey, StaticForwardRule> Rules => _rules;

    public IReadOnlyDictionary<PortKey, ForwardingEntry> Live => _live;

    /// <summary>The peer a rule gives the key to (live or dark), or null.</summary>
    public string? OwnerOf(PortKey key) => _rules.TryGetValue(key, out var rule) ? rule.PeerId : null;

    public void SetRule(StaticForwardRule rule) => _rules[KeyOf(rule)] = rule;

    public void RemoveRule(PortKey key) => _rules.Remove(key);

    public void SetLive(ForwardingEntry entry) => _live[PortKey.Of(entry)] = entry;

    public void RemoveLive(PortKey key) => _live.Remove(key);

    /// <summary>The live entries of one peer, or null when it has none.</summary>
    public List<ForwardingEntry>? LiveOf(string peerId)
    {
        List<ForwardingEntry>? entries = null;
        foreach (var entry in _live.Values)
        {
            if (entry.Owner == peerId)
                (entries ??= []).Add(entry);
        }
        return entries;
    }

    /// <summary>
    /// The kernel entry of <paramref name="rule"/> for its peer's <paramref name="session"/>: at the session's tunnel
    /// address of the rule's family. Null — the rule stays dark — for an IPv6 rule without IPv6 inbound, and, with a
    /// routed prefix, for one that is not the peer's own /128 at its own port (nothing is translated there).
    /// </summary>
    public static ForwardingEntry? EntryOf(StaticForwardRule rule, PeerSession session)
    {
        if (rule.PublicAddress.AddressFamily == AddressFamily.InterNetwork)
            return EntryOf(rule, session.TunnelAddress);
        if (session.Ipv6 is not { } facet
            || (facet.Routed && (!rule.PublicAddress.Equals(facet.TunnelAddress) || rule.ExternalPort != rule.InternalPort)))
            return null;
        return EntryOf(rule, facet.TunnelAddress);
    }

    public static ForwardingEntry EntryOf(StaticForwardRule rule, IPAddress tunnelAddress) =>
        new(rule.PublicAddress, rule.Protocol, rule.ExternalPort, tunnelAddress, rule.InternalPort, rule.PeerId, null);

    public static PortKey KeyOf(StaticForwardRule rule) => new(rule.PublicAddress, rule.Protocol, rule.ExternalPort);

    public static StaticForwardRule Check(StaticForwardRule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        ArgumentNullException.ThrowIfNull(rule.PublicAddress);
        var address = rule.PublicAddress.IsIPv4MappedToIPv6 ? rule.PublicAddress.MapToIPv4() : rule.PublicAddress;
        if (address.AddressFamily != AddressFamily.InterNetwork && (!Configuration.TunnelIpv6.IsUnicast(address) || address.ScopeId != 0))
            throw new ArgumentException($"Static forward public address {rule.PublicAddress} is neither IPv4 nor a unicast IPv6 address without a zone.", nameof(rule));
        if (rule.Protocol is not (MappingProtocol.Tcp or MappingProtocol.Udp))
            throw new ArgumentException("A static forward's protocol is TCP or UDP.", nameof(rule));
        if (rule.ExternalPort == 0 || rule.InternalPort == 0)
            throw new ArgumentException("A static forward's ports must not be 0.", nameof(rule));
        if (!ForwardingEntry.IsValidOwner(rule.PeerId))
            throw new ArgumentException("A static forward's peer id is not a valid owner id.", nameof(rule));
        return address.Equals(rule.PublicAddress) ? rule : rule with { PublicAddress = address };
    }
}
