namespace Portcullis.Gateway.Forwarding;

public sealed partial class ForwardingService
{
    /// <summary>The dynamic range's use now, for metrics: one walk over the mappings per scrape.</summary>
    public PortPoolUsage PoolUsage
    {
        get
        {
            lock (_lock)
                return ForwardingReadModel.PoolUsage(_policy.PortRange, _leases, _statics, _ports.QuarantinedCount(Now));
        }
    }
}
