using System.Net;
using Portcullis.Gateway.Configuration;

namespace Portcullis.Gateway.Store;

/// <summary>
/// Where peers' tunnel addresses come from: the host addresses of <see cref="Prefix"/> except the gateway's own.
/// Passed per call rather than fixed at open, so gateways of a fleet may share a store.
/// </summary>
public sealed record TunnelAddressPool(IPNetwork Prefix, IPAddress Gateway)
{
    /// <summary>A host address of the prefix that is not the gateway's.</summary>
    public bool CanAssign(IPAddress address) =>
        address is not null && ConfigValues.IsHostOf(Prefix, address) && !address.Equals(Gateway);

    /// <summary>The lowest assignable address not in <paramref name="taken"/>, or null when the pool is full.</summary>
    public IPAddress? FirstFree(IReadOnlySet<IPAddress> taken)
    {
        ArgumentNullException.ThrowIfNull(taken);
        var last = ConfigValues.ToUInt32(ConfigValues.Broadcast(Prefix));
        for (var value = ConfigValues.ToUInt32(Prefix.BaseAddress) + 1; value < last; value++)
        {
            var address = ConfigValues.FromUInt32(value);
            if (!address.Equals(Gateway) && !taken.Contains(address))
                return address;
        }
        return null;
    }

    internal StoreConflictException Exhausted(string peerName) =>
        new(StoreConflict.AddressPoolExhausted, Prefix.ToString(),
            $"The tunnel prefix {Prefix} has no free address left for peer '{peerName}'.");
}
