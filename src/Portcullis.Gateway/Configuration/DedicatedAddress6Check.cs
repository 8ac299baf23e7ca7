using System.Net;

namespace Portcullis.Gateway.Configuration;

/// <summary>
/// <c>[[peer]] dedicated_address6</c>: a peer's own public IPv6 address. Only with NAT66 (<c>[tunnel] address6</c> and
/// <c>[nat] public_addresses6</c>): with a routed prefix every peer already egresses from, and is reached on, a global
/// /128 of its own. Never a shared address, never two peers'.
/// </summary>
internal static class DedicatedAddress6Check
{
    public const string Key = "dedicated_address6";

    public static IPAddress? Parse(TomlSection section)
    {
        var text = section.String(Key);
        if (text is null)
            return null;
        if (ConfigValues.TryParseUnicastIpv6(text, out var address))
            return address;
        section.Error(Key, "expected a unicast IPv6 address, e.g. \"2001:db8:1::11\"");
        return null;
    }

    public static void Check(IReadOnlyList<(PeerConfig Peer, TomlSection Section)> peers, TunnelSection tunnel, NatSection nat)
    {
        var holders = new Dictionary<IPAddress, int>();
        foreach (var (peer, section) in peers)
        {
            if (peer.DedicatedAddress6 is not { } address)
                continue;
            if (tunnel.Ipv6 is not { } ipv6)
                section.Error(Key, $"{address} is IPv6, which needs NAT66 in the tunnel ([tunnel] address6 with [nat] public_addresses6)");
            else if (ipv6.Routed)
                section.Error(Key, $"with [tunnel] routed_prefix6 every peer already has a global /128 of its own; {Key} needs NAT66 ([tunnel] address6)");
            else if (nat.PublicAddresses6.Contains(address))
                section.Error(Key, $"{address} is one of [nat] public_addresses6, shared by every peer; it cannot be dedicated");
            else if (ipv6.Prefix.Contains(address))
                section.Error(Key, $"{address} lies in the tunnel's IPv6 prefix {ipv6.Prefix}");
            else if (!holders.TryAdd(address, section.Line))
                section.Error(Key, $"another [[peer]] (line {holders[address]}) has {address} as its dedicated address");
        }
    }
}
