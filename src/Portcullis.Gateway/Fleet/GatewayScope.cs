using System.Net;
using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Store;

namespace Portcullis.Gateway.Fleet;

/// <summary>
/// Which of a shared store's rows are this gateway's to serve. Peers and their tunnel addresses are everyone's. A
/// dedicated address is the gateway's that assigned it (<see cref="DedicatedAddress.Gateway"/>). A static forward
/// pinned to an address lives where the address is: on one of this gateway's shared addresses or its dedicated ones;
/// a fleet-wide one (<see cref="StoredForward.AnyGateway"/>) lives on every gateway, on its first shared address.
/// A one-box store is all this gateway's: its gateway name is empty and so is every row's. An IPv6 forward is always
/// pinned: it lives where its address is — on one of this gateway's <paramref name="sharedAddresses6"/> (NAT66), or
/// inside its <paramref name="routedPrefix6"/> (each gateway routes a prefix of its own, so a peer's /128 there is
/// this gateway's alone).
/// </summary>
internal sealed class GatewayScope(
    string gateway,
    IReadOnlyList<IPAddress> sharedAddresses,
    IReadOnlyList<IPAddress>? sharedAddresses6 = null,
    IPNetwork? routedPrefix6 = null)
{
    public string Gateway { get; } = gateway;

    public IPAddress DefaultAddress => sharedAddresses[0];

    public bool Owns(DedicatedAddress dedicated) => dedicated.Gateway == Gateway;

    /// <summary>The service's rule for <paramref name="forward"/> on this gateway, or null when it lives elsewhere.</summary>
    public StaticForwardRule? Rule(StoredForward forward, IReadOnlySet<IPAddress> ownDedicated)
    {
        ArgumentNullException.ThrowIfNull(forward);
        IPAddress address;
        if (forward.IsFleetWide)
            address = DefaultAddress;
        else if (sharedAddresses.Contains(forward.PublicAddress) || ownDedicated.Contains(forward.PublicAddress) || HasIpv6(forward.PublicAddress))
            address = forward.PublicAddress;
        else
            return null;
        return new StaticForwardRule(address, forward.Protocol, forward.ExternalPort, forward.PeerId, forward.InternalPort);
    }

    /// <summary>Whether <paramref name="address"/> is one of this gateway's IPv6 addresses a static forward may use.</summary>
    public bool HasIpv6(IPAddress address) =>
        address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
        && ((sharedAddresses6?.Contains(address) ?? false) || (routedPrefix6 is { } prefix && prefix.Contains(address)));

    /// <summary>
    /// This gateway's rules for <paramref name="forwards"/>. A pinned forward wins over a fleet-wide one on the same
    /// key (the store refuses such a pair for a registered gateway; this keeps an unregistered one consistent).
    /// </summary>
    public List<StaticForwardRule> Rules(IEnumerable<StoredForward> forwards, IReadOnlySet<IPAddress> ownDedicated)
    {
        ArgumentNullException.ThrowIfNull(forwards);
        var rules = new Dictionary<(IPAddress, Portcullis.PortMapping.MappingProtocol, ushort), StaticForwardRule>();
        foreach (var forward in forwards.OrderBy(f => f.IsFleetWide))
        {
            if (Rule(forward, ownDedicated) is { } rule)
                rules.TryAdd((rule.PublicAddress, rule.Protocol, rule.ExternalPort), rule);
        }
        return [.. rules.Values];
    }

    /// <summary>The addresses of <paramref name="dedicated"/> that are this gateway's.</summary>
    public HashSet<IPAddress> OwnDedicated(IEnumerable<DedicatedAddress> dedicated) =>
        [.. dedicated.Where(Owns).Select(d => d.Address)];
}
