using Microsoft.Extensions.Logging;
using Portcullis.Linux.Nftables;

namespace Portcullis.Gateway.Kernel;

/// <summary>The conntrack reaper's reports as <see cref="NftForwardingTableLog"/> events (counts only).</summary>
internal sealed class NftReaperLog(ILogger logger) : IConntrackReaperLog
{
    public void EventsUnavailable(string reason) => NftForwardingTableLog.ConntrackEventsUnavailable(logger, reason);

    public void EventsOverrun(int flows) => NftForwardingTableLog.ConntrackEventsOverrun(logger, flows);

    public void RebuildFailed(string error) => NftForwardingTableLog.ConntrackRebuildFailed(logger, error);

    public void Ended(int destinations, int flows, bool byDump) =>
        NftForwardingTableLog.FlowsEnded(logger, destinations, flows, byDump ? "by table dump" : "in the event index");

    public void DumpNotice(string message) => NftForwardingTableLog.ConntrackFallback(logger, message);

    public void Failed(string error) => NftForwardingTableLog.ConntrackFailed(logger, error);
}
