using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace Portcullis.Client.KillSwitch;

/// <summary>The directly connected prefixes of the physical interfaces: what <c>--allow-lan</c> opens.</summary>
public static class LanPrefixes
{
    /// <summary>Every IPv4 and global IPv6 prefix on an interface that is up, other than loopback and <paramref name="tunnelInterface"/>.</summary>
    public static IReadOnlyList<IPNetwork> Discover(string tunnelInterface)
    {
        var prefixes = new List<IPNetwork>();
        foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
        {
            if (nic.Name == tunnelInterface || nic.NetworkInterfaceType == NetworkInterfaceType.Loopback
                || nic.OperationalStatus == OperationalStatus.Down)
                continue;
            foreach (var unicast in nic.GetIPProperties().UnicastAddresses)
            {
                var address = unicast.Address;
                if (address.AddressFamily == AddressFamily.InterNetworkV6 && (address.IsIPv6LinkLocal || address.IsIPv6Multicast))
                    continue;
                if (address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
                    continue;
                var prefix = Network(address, unicast.PrefixLength);
                if (!prefixes.Contains(prefix))
                    prefixes.Add(prefix);
            }
        }
        return prefixes;
    }

    internal static IPNetwork Network(IPAddress address, int length)
    {
        var bytes = address.GetAddressBytes();
        for (var i = 0; i < bytes.Length; i++)
            bytes[i] &= (byte)(0xFF << (8 - Math.Clamp(length - i * 8, 0, 8)));
        return new IPNetwork(new IPAddress(bytes), length);
    }
}
