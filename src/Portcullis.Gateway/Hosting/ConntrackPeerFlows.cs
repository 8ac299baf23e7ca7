using System.Net;
using Portcullis.Gateway.Admin;
using Portcullis.Gateway.Configuration;
using Portcullis.Gateway.Kernel;

namespace Portcullis.Gateway.Hosting;

/// <summary>
/// Ends the tracked flows of a tunnel address whose peer was removed or disabled — those it opened (masqueraded or
/// PEER-mapped on the way out) and those forwarded to it — and of its IPv6 twin when the tunnel has IPv6. The device
/// has already cut the data path (no peer owns the address); this ends what conntrack would otherwise keep until it
/// times out. The forwarding table's reaper does it on its own thread, from its index of tunnel addresses' flows
/// (O(that address's flows); a table dump only where conntrack events are unavailable): the admin answer never waits
/// for it. Failures are the reaper's to log.
/// </summary>
internal sealed class ConntrackPeerFlows(NftForwardingTable table, TunnelIpv6? ipv6) : IPeerFlows
{
    public void Cut(IPAddress tunnelAddress)
    {
        ArgumentNullException.ThrowIfNull(tunnelAddress);
        try
        {
            table.EndPeerFlows(tunnelAddress);
            if (ipv6 is not null && ipv6.Ipv4Prefix.Contains(tunnelAddress))
                table.EndPeerFlows(ipv6.Twin(tunnelAddress));
        }
        catch (ObjectDisposedException)
        {
            // Shutting down: the table and its flows go with the gateway.
        }
    }
}
