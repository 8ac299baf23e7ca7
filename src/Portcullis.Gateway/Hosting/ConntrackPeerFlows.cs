using System.Net;
using Microsoft.Extensions.Logging;
using Portcullis.Gateway.Admin;
using Portcullis.Linux;
using Portcullis.Linux.Nftables;

namespace Portcullis.Gateway.Hosting;

/// <summary>
/// Deletes the tracked flows of a tunnel address whose peer was removed or disabled: those it opened (original
/// source = the address, masqueraded on the way out) and those forwarded to it (reply source = the address), in
/// process over ctnetlink in the gateway's network namespace. The device has already cut the data path (no peer owns
/// the address); this ends what conntrack would otherwise keep until it times out.
/// One whole-table dump, not the forwarding table's flow index: that index holds only DNATed flows, and the flows the
/// peer opened itself (masqueraded) are the larger part here. Removing a peer is a rare admin act, not a port request.
/// </summary>
internal sealed partial class ConntrackPeerFlows(ILogger logger) : IPeerFlows
{
    private long _deleted;

    /// <summary>Flows deleted so far (metrics).</summary>
    public long Deleted => Interlocked.Read(ref _deleted);

    public void Cut(IPAddress tunnelAddress)
    {
        ArgumentNullException.ThrowIfNull(tunnelAddress);
        try
        {
            using var conntrack = new Conntrack();
            Interlocked.Add(ref _deleted, conntrack.DeleteInvolving(tunnelAddress));
        }
        catch (LinuxCallException e)
        {
            FlowCutFailed(logger, e.Message);
        }
    }

    [LoggerMessage(6020, LogLevel.Warning, "Removing a peer's tracked flows failed ({Reason}); they stay until they time out")]
    private static partial void FlowCutFailed(ILogger logger, string reason);
}
