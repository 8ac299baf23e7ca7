using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Hosting;
using Portcullis.Gateway.Peers;
using Portcullis.PortMapping.Server;
using Portcullis.WireGuard.Device;

namespace Portcullis.Gateway.Metrics;

/// <summary>The running gateway's parts the scrape-time families read (GatewayMetrics.Scraped.cs).</summary>
internal sealed record GatewayMetricSources
{
    public required WireGuardDevice Device { get; init; }
    public required PeerDirectory Peers { get; init; }
    public required IForwardingAdmin Forwarding { get; init; }
    public required PortMappingCounters PortRequests { get; init; }
    public required SessionCounters Sessions { get; init; }

    /// <summary>Flows deleted so far by the forwarding table and by peer removals together.</summary>
    public required Func<long> FlowsDeleted { get; init; }

    /// <summary>New inbound connections the per-forward limits dropped, by reason (none when nothing reads the kernel).</summary>
    public Func<InboundDropCounts> InboundDrops { get; init; } = static () => default;
}

/// <summary>
/// Counts the device's session events: started, and ended by reason. Subscribed beside the host's own handlers; the
/// events come on pipeline threads, so counting is one atomic add.
/// </summary>
internal sealed class SessionCounters : IDisposable
{
    private readonly WireGuardDevice _device;
    private readonly long[] _ended = new long[Enum.GetValues<SessionEndReason>().Length];
    private long _started;

    public SessionCounters(WireGuardDevice device)
    {
        _device = device;
        device.SessionEstablished += OnStarted;
        device.SessionEnded += OnEnded;
    }

    public long Started => Interlocked.Read(ref _started);

    public long Ended(SessionEndReason reason) => Interlocked.Read(ref _ended[(int)reason]);

    private void OnStarted(PeerSessionEvent e) => Interlocked.Increment(ref _started);

    private void OnEnded(PeerSessionEvent e) => Interlocked.Increment(ref _ended[(int)(e.EndReason ?? SessionEndReason.DeviceClosed)]);

    public void Dispose()
    {
        _device.SessionEstablished -= OnStarted;
        _device.SessionEnded -= OnEnded;
    }
}
