using System.Net;
using Portcullis.Gateway.Configuration;

namespace Portcullis.Gateway.Addressing;

/// <summary>
/// IPAM for the tunnel prefix, pure (no files): each peer gets one host address, never the gateway's own, the
/// network or the broadcast address.
/// 1. Configured addresses win, even over an address remembered for another peer.
/// 2. A peer keeps its remembered address while it is still a free host address of the prefix.
/// 3. Everyone else gets the lowest free address, in config order.
/// </summary>
public static class AddressAllocator
{
    /// <summary>
    /// Assigns addresses to <paramref name="peers"/> (result in the same order). <paramref name="remembered"/> maps a
    /// public key (base64) to the address it had. Configured addresses are assumed valid (the config loader checked
    /// them). Throws <see cref="AddressExhaustedException"/> when the prefix is full.
    /// </summary>
    public static IReadOnlyList<PeerAddress> Assign(
        IPNetwork prefix, IPAddress gateway, IReadOnlyList<AddressRequest> peers, IReadOnlyDictionary<string, IPAddress> remembered)
    {
        ArgumentNullException.ThrowIfNull(peers);
        ArgumentNullException.ThrowIfNull(remembered);
        var taken = new HashSet<IPAddress> { gateway };
        foreach (var peer in peers)
        {
            if (peer.ConfiguredAddress is { } configured)
                taken.Add(configured);
        }

        var result = new PeerAddress?[peers.Count];
        for (var i = 0; i < peers.Count; i++)
        {
            var peer = peers[i];
            if (peer.ConfiguredAddress is { } configured)
                result[i] = new PeerAddress(peer.Name, peer.PublicKey, configured, Configured: true);
            else if (remembered.TryGetValue(Convert.ToBase64String(peer.PublicKey), out var kept)
                     && ConfigValues.IsHostOf(prefix, kept) && taken.Add(kept))
                result[i] = new PeerAddress(peer.Name, peer.PublicKey, kept, Configured: false);
        }

        var next = ConfigValues.ToUInt32(prefix.BaseAddress) + 1;
        var broadcast = ConfigValues.ToUInt32(ConfigValues.Broadcast(prefix));
        for (var i = 0; i < peers.Count; i++)
        {
            if (result[i] is not null)
                continue;
            while (next < broadcast && taken.Contains(ConfigValues.FromUInt32(next)))
                next++;
            if (next >= broadcast)
                throw new AddressExhaustedException($"the tunnel prefix {prefix} has no free address left for peer {peers[i].Name}");
            var address = ConfigValues.FromUInt32(next);
            taken.Add(address);
            result[i] = new PeerAddress(peers[i].Name, peers[i].PublicKey, address, Configured: false);
        }
        return result!;
    }
}
