using System.Net;
using System.Net.Sockets;

namespace Portcullis.Gateway.Configuration;

/// <summary>
/// <c>[[peer.forward]] public_address</c>: the address a static forward listens on, IPv4 or IPv6, and whether this
/// gateway has it. IPv4: a shared address (<c>[nat] public_addresses</c>) or the peer's own <c>dedicated_address</c>,
/// as the admin API allows. IPv6 needs IPv6 in the tunnel: with NAT66 one of <c>[nat] public_addresses6</c> (the
/// kernel translates it to the peer's IPv6 tunnel address), with a routed prefix the peer's own /128 at its own port
/// (nothing is translated there, so the peer's <c>address</c> must be in the file to know its /128).
/// </summary>
internal static class ForwardAddressCheck
{
    private const string Key = "public_address";

    public static IPAddress? Parse(TomlSection section)
    {
        var text = section.String(Key);
        if (text is null)
            return null;
        if (ConfigValues.TryParseIpv4(text, out var ipv4))
            return ipv4;
        if (ConfigValues.TryParseUnicastIpv6(text, out var ipv6))
            return ipv6;
        section.Error(Key, "expected an IPv4 or unicast IPv6 address, e.g. \"198.51.100.10\" or \"2001:db8:1::10\"");
        return null;
    }

    public static void Check(
        IReadOnlyList<(int Peer, StaticForward Forward, TomlSection Section)> forwards,
        IReadOnlyList<(PeerConfig Peer, TomlSection Section)> peers,
        TunnelSection tunnel,
        NatSection nat)
    {
        foreach (var (index, forward, section) in forwards)
        {
            if (forward.PublicAddress is not { } address)
                continue;
            var peer = peers[index].Peer;
            if (address.AddressFamily == AddressFamily.InterNetwork)
                CheckIpv4(address, peer, peers, nat, section);
            else
                CheckIpv6(address, forward, peer, tunnel, nat, section);
        }
    }

    private static void CheckIpv4(IPAddress address, PeerConfig peer, IReadOnlyList<(PeerConfig Peer, TomlSection Section)> peers, NatSection nat, TomlSection section)
    {
        if (nat.PublicAddresses.Contains(address) || address.Equals(peer.DedicatedAddress))
            return;
        var holder = peers.FirstOrDefault(p => address.Equals(p.Peer.DedicatedAddress));
        section.Error(Key, holder.Peer is not null
            ? $"{address} is another peer's dedicated address ([[peer]] at line {holder.Section.Line})"
            : $"{address} is neither one of [nat] public_addresses nor this peer's dedicated_address");
    }

    private static void CheckIpv6(IPAddress address, StaticForward forward, PeerConfig peer, TunnelSection tunnel, NatSection nat, TomlSection section)
    {
        if (tunnel.Ipv6 is not { } ipv6)
        {
            section.Error(Key, $"{address} is IPv6, which needs IPv6 in the tunnel ([tunnel] address6 or routed_prefix6)");
            return;
        }
        if (!ipv6.Routed)
        {
            if (!nat.PublicAddresses6.Contains(address) && !address.Equals(peer.DedicatedAddress6))
                section.Error(Key, $"{address} is not one of [nat] public_addresses6");
            return;
        }
        if (peer.Address is not { } tunnelAddress || !ipv6.Ipv4Prefix.Contains(tunnelAddress))
        {
            section.Error(Key, "with routed_prefix6 an IPv6 forward is the peer's own /128; give the [[peer]] its address so that it is known");
            return;
        }
        var own = ipv6.Twin(tunnelAddress);
        if (!own.Equals(address))
            section.Error(Key, $"with routed_prefix6 an IPv6 forward is the peer's own /128, {own}, not {address}");
        else if (forward.ExternalPort != forward.InternalPort)
            section.Error("internal_port", $"with routed_prefix6 nothing is translated: an IPv6 forward's internal port is its external port, {forward.ExternalPort}");
    }
}
