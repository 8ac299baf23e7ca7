using System.Net.Sockets;
using Portcullis.Gateway.Configuration;
using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Kernel;
using Portcullis.Linux.Links;

namespace Portcullis.Gateway.Hosting;

/// <summary>
/// Start step 3: the TUN's addresses (the gateway's tunnel address, and its IPv6 twin when the tunnel carries IPv6), the
/// link up, forwarding on for each family the tunnel carries; and the network the nftables tables are built from.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal static class TunnelInterfaceSetup
{
    private const string IpForwardPath = "/proc/sys/net/ipv4/ip_forward";
    private const string Ipv6ForwardPath = "/proc/sys/net/ipv6/conf/all/forwarding";

    public static void Configure(TunnelSection tunnel)
    {
        ArgumentNullException.ThrowIfNull(tunnel);
        Link.AddAddress(tunnel.Interface, tunnel.Address, tunnel.Prefix.PrefixLength);
        if (tunnel.Ipv6 is { } ipv6)
        {
            EnableIpv6On(tunnel.Interface);
            Link.AddAddress(tunnel.Interface, tunnel.Address6!, ipv6.Prefix.PrefixLength);
        }
        Link.SetUp(tunnel.Interface);
        EnableForwarding(IpForwardPath, "net.ipv4.ip_forward");
        if (tunnel.Ipv6 is not null)
            EnableForwarding(Ipv6ForwardPath, "net.ipv6.conf.all.forwarding");
    }

    /// <summary>What <see cref="IForwardingTable.Install"/> builds the tables from; allow_destinations split by family.</summary>
    public static GatewayNetwork Network(GatewayConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var tunnel = config.Tunnel;
        return new GatewayNetwork
        {
            TunnelInterface = tunnel.Interface,
            TunnelPrefix = tunnel.Prefix,
            GatewayTunnelAddress = tunnel.Address,
            PublicInterface = config.Nat.PublicInterface,
            PublicAddresses = config.Nat.PublicAddresses,
            AllowPeerToPeer = tunnel.AllowPeerToPeer,
            AllowDns = tunnel.AllowDns,
            AllowedDestinations = [.. config.Nat.AllowDestinations.Where(p => p.BaseAddress.AddressFamily == AddressFamily.InterNetwork)],
            Ipv6 = tunnel.Ipv6 is not { } ipv6 ? null : new GatewayNetwork6
            {
                TunnelPrefix = ipv6.Prefix,
                GatewayTunnelAddress = tunnel.Address6!,
                PublicAddresses = ipv6.Routed ? [] : config.Nat.PublicAddresses6,
                AllowedDestinations = [.. config.Nat.AllowDestinations.Where(p => p.BaseAddress.AddressFamily == AddressFamily.InterNetworkV6)],
            },
        };
    }

    // Written only when off, so a host that sets it at boot (sysctl.d) can run the gateway with /proc/sys read-only
    // (systemd's ProtectKernelTunables=).
    private static void EnableForwarding(string path, string name)
    {
        try
        {
            if (File.ReadAllText(path).Trim() == "1")
                return;
            File.WriteAllText(path, "1\n");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException(
                $"{name} is off and cannot be turned on ({e.Message}): set it at boot, e.g. with dist/99-portcullis-gateway.conf in /etc/sysctl.d.", e);
        }
    }

    // A host that keeps IPv6 off on new interfaces (net.ipv6.conf.default.disable_ipv6 = 1, as hardened images do) gives
    // the TUN none; the interface is the gateway's own, so IPv6 is turned on there and nowhere else.
    private static void EnableIpv6On(string interfaceName)
    {
        var path = $"/proc/sys/net/ipv6/conf/{interfaceName}/disable_ipv6";
        try
        {
            if (File.ReadAllText(path).Trim() == "0")
                return;
            File.WriteAllText(path, "0\n");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException(
                $"[tunnel] asks for IPv6 but {interfaceName} cannot have it ({e.Message}): the kernel runs without IPv6 (ipv6.disable=1), or IPv6 is off by default and /proc/sys is read-only.", e);
        }
    }
}
