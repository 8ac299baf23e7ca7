namespace Portcullis.Gateway.Forwarding;

/// <summary>How much of the dynamic port range is spoken for.</summary>
/// <param name="Size">Ports in the range.</param>
/// <param name="Mapped">Port numbers of the range held now by a dynamic mapping or a live static forward (either protocol, any public address).</param>
/// <param name="Quarantined">Port numbers released lately and withheld from other peers.</param>
public readonly record struct PortPoolUsage(int Size, int Mapped, int Quarantined);

/// <summary>
/// The admin and metrics views: snapshots built from the parts' state. Owns nothing and changes nothing; the front
/// calls it under its lock, so a snapshot is consistent.
/// </summary>
internal static class ForwardingReadModel
{
    /// <summary>Every live dynamic mapping, its expiry on the wall clock (<paramref name="wallNow"/> is <paramref name="now"/>).</summary>
    public static List<ActiveMapping> Mappings(LeaseBook leases, TimeSpan now, DateTimeOffset wallNow)
    {
        var list = new List<ActiveMapping>(leases.Count);
        foreach (var mapping in leases.Mappings)
        {
            list.Add(new ActiveMapping(mapping.Owner.PeerId, mapping.Owner.TunnelAddress, mapping.Protocol,
                mapping.InternalPort, mapping.PublicAddress, mapping.PublicPort, mapping.Lifetime,
                wallNow + (mapping.ExpiresAt - now), mapping.Nonce is not null)
            {
                Remote = mapping.Remote,
            });
        }
        return list;
    }

    /// <summary>Every static forward, with whether it is in the kernel now.</summary>
    public static List<StaticForwardState> StaticForwards(StaticForwardSet statics)
    {
        var list = new List<StaticForwardState>(statics.Rules.Count);
        foreach (var (key, rule) in statics.Rules)
            list.Add(new StaticForwardState(rule, statics.Live.ContainsKey(key)));
        return list;
    }

    /// <summary>The range's use: port numbers held by a lease or a live static forward, for either protocol, on any address.</summary>
    public static PortPoolUsage PoolUsage(PortRange range, LeaseBook leases, StaticForwardSet statics, int quarantined)
    {
        var held = new HashSet<ushort>();
        foreach (var key in leases.Keys)
        {
            if (range.Contains(key.Port))
                held.Add(key.Port);
        }
        foreach (var key in statics.Live.Keys)
        {
            if (range.Contains(key.Port))
                held.Add(key.Port);
        }
        return new PortPoolUsage(range.Count, held.Count, quarantined);
    }
}
