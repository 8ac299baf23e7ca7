namespace Portcullis.Gateway.Forwarding;

/// <summary>How much of the dynamic port range is spoken for.</summary>
/// <param name="Size">Ports in the range.</param>
/// <param name="Mapped">Port numbers of the range held now by a dynamic mapping or a live static forward (either protocol, any public address).</param>
/// <param name="Quarantined">Port numbers released lately and withheld from other peers.</param>
public readonly record struct PortPoolUsage(int Size, int Mapped, int Quarantined);

public sealed partial class ForwardingService
{
    /// <summary>The dynamic range's use now, for metrics: one walk over the mappings per scrape.</summary>
    public PortPoolUsage PoolUsage
    {
        get
        {
            lock (_lock)
            {
                var range = _policy.PortRange;
                var held = new HashSet<ushort>();
                foreach (var key in _leases.Keys)
                {
                    if (range.Contains(key.Port))
                        held.Add(key.Port);
                }
                foreach (var key in _statics.Live.Keys)
                {
                    if (range.Contains(key.Port))
                        held.Add(key.Port);
                }
                return new PortPoolUsage(range.Count, held.Count, _ports.QuarantinedCount(Now));
            }
        }
    }
}
