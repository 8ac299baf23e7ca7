using Portcullis.Gateway.Forwarding;
using Portcullis.Linux.Nftables;

namespace Portcullis.Gateway.Kernel;

/// <summary>
/// Changes <see cref="InboundLimits"/> at run time and reads their drop counters. Writes only chain
/// <c>inbound_limits</c> and its two sets (of table ip, and of table ip6 when IPv6 is configured), which <see cref="IForwardingTable.Install"/> created (layout in
/// <see cref="NftInboundLimitScript"/>); the mappings, routes and every other chain stay the forwarding table's. Has its
/// own libnftables context, so a metrics scrape or a policy change on another thread never shares the table's.
/// Thread-safe. Namespace: that of the thread that constructed it, as <see cref="NftForwardingTable"/>.
/// </summary>
public sealed class NftInboundLimits : IDisposable
{
    private readonly NftContext _nft = new();
    private readonly Lock _lock = new();
    private bool _disposed;

    /// <summary>
    /// Replaces the limits in one transaction (an element's bucket or count starts afresh). Throws
    /// <see cref="ArgumentException"/> for a value out of range and <see cref="ForwardingTableException"/> when nft
    /// refuses, the previous limits then still in force.
    /// </summary>
    public void Set(InboundLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        limits.Validate();
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            try
            {
                _nft.Run(NftInboundLimitScript.Replace(limits, HasIpv6()));
            }
            catch (NftException e)
            {
                throw new ForwardingTableException($"could not set the inbound limits: {e.NftError.Trim()}", e);
            }
        }
    }

    /// <summary>Connections dropped so far by reason; zeros when the table is not installed.</summary>
    public InboundDropCounts ReadDrops()
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            try
            {
                return NftInboundLimitScript.ParseCounters(_nft.RunJson(NftInboundLimitScript.ListCounters()));
            }
            catch (Exception e) when (e is NftException or System.Text.Json.JsonException or InvalidOperationException or KeyNotFoundException)
            {
                // No table yet (or an nft whose listing this build cannot read): nothing to count.
                return default;
            }
        }
    }

    // Table ip6 exists exactly when the gateway has IPv6 (Install creates or removes it with table ip's transaction).
    private bool HasIpv6()
    {
        try
        {
            _nft.Run(NftInboundLimitScript.ListIpv6Chain());
            return true;
        }
        catch (NftException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
                return;
            _disposed = true;
            _nft.Dispose();
        }
    }
}
