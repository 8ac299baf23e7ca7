using System.Net;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Forwarding;

/// <summary>The public side of a mapping, the kernel map's key: one owner per (address, protocol, port).</summary>
internal readonly record struct PortKey(IPAddress Address, MappingProtocol Protocol, ushort Port)
{
    public static PortKey Of(ForwardingEntry entry) => new(entry.PublicAddress, entry.Protocol, entry.PublicPort);
}

/// <summary>The client side of a mapping: a repeated request for the same key refreshes the same mapping.</summary>
/// <remarks><paramref name="Ipv6"/>: the peer's IPv6 facet, whose mappings are apart from its IPv4 ones.</remarks>
internal readonly record struct LeaseKey(string PeerId, MappingProtocol Protocol, ushort InternalPort, bool Ipv6 = false);
