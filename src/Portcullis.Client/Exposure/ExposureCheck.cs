using System.Net;
using Portcullis.Client.PortForwarding;
using Portcullis.PortMapping;

namespace Portcullis.Client.Exposure;

/// <summary>A socket on the forwarded port that other networks than the tunnel can reach.</summary>
public sealed record Exposure(Listener Listener, string Reason)
{
    public override string ToString() => $"{Listener}: {Reason}";
}

/// <summary>
/// Tunnel-only exposure (issue 5 item 4): who listens on the forwarded internal port, and is any of them bound where
/// the physical network reaches it — the wildcard (0.0.0.0, ::) or an address that is neither loopback nor the tunnel's.
/// The kill switch drops the port outside the tunnel anyway; the warning is for hosts running without it.
/// </summary>
public static class ExposureCheck
{
    public static IReadOnlyList<Exposure> Find(
        IReadOnlyList<Listener> listeners, ForwardProtocol protocol, ushort port, IReadOnlyList<IPAddress> tunnelAddresses)
    {
        ArgumentNullException.ThrowIfNull(listeners);
        ArgumentNullException.ThrowIfNull(tunnelAddresses);
        var found = new List<Exposure>();
        foreach (var listener in listeners)
        {
            if (listener.Port != port || !Matches(protocol, listener.Protocol))
                continue;
            var address = listener.Address.IsIPv4MappedToIPv6 ? listener.Address.MapToIPv4() : listener.Address;
            if (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any))
                found.Add(new Exposure(listener, "bound to every interface, the physical ones included; bind it to the tunnel address"));
            else if (!IPAddress.IsLoopback(address) && !tunnelAddresses.Contains(address))
                found.Add(new Exposure(listener, "bound to an address outside the tunnel"));
        }
        return found;
    }

    private static bool Matches(ForwardProtocol wanted, ListenerProtocol actual) => wanted switch
    {
        ForwardProtocol.Tcp => actual == ListenerProtocol.Tcp,
        ForwardProtocol.Udp => actual == ListenerProtocol.Udp,
        _ => true,
    };
}
