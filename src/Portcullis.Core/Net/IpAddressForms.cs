using System.Net;

namespace Portcullis.Core.Net;

/// <summary>One spelling of an address, whatever form it arrived in.</summary>
public static class IpAddressForms
{
    /// <summary>
    /// An IPv4-mapped IPv6 address (::ffff:a.b.c.d, what a dual-stack socket reports for an IPv4 peer) as plain IPv4;
    /// any other address as it is. State keyed by address (sessions, ports, routes) is keyed by this form.
    /// </summary>
    public static IPAddress Unmapped(this IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
