using System.Net;
using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Kernel;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Tests.Kernel.Support;

/// <summary>The lab's addresses (DESIGN §5) and a short way to write forwarding entries.</summary>
internal static class Entries
{
    public static readonly IPAddress Public = IPAddress.Parse("198.51.100.10");
    /// <summary>A dedicated address (DESIGN §5's pool), held by the lab gateway's public interface beside the shared one.</summary>
    public static readonly IPAddress Dedicated = IPAddress.Parse("198.51.100.11");
    public static readonly IPAddress Remote = IPAddress.Parse("198.51.100.100");
    public static readonly IPAddress Gateway = IPAddress.Parse("10.99.0.1");
    public static readonly IPAddress Client1 = IPAddress.Parse("10.99.0.2");
    public static readonly IPAddress Client2 = IPAddress.Parse("10.99.0.3");

    public static GatewayNetwork Network(bool allowPeerToPeer = false) => new()
    {
        TunnelInterface = "pc0",
        TunnelPrefix = IPNetwork.Parse("10.99.0.0/16"),
        GatewayTunnelAddress = Gateway,
        PublicInterface = "eth0",
        PublicAddresses = [Public],
        AllowPeerToPeer = allowPeerToPeer,
    };

    public static ForwardingEntry Tcp(ushort publicPort, IPAddress tunnel, ushort internalPort, string owner, TimeSpan? timeout = null) =>
        new(Public, MappingProtocol.Tcp, publicPort, tunnel, internalPort, owner, timeout);

    public static PeerEntry Peer(ushort publicPort, IPAddress tunnel, ushort internalPort, IPEndPoint remote, string owner, TimeSpan? timeout = null) =>
        new(Public, MappingProtocol.Tcp, publicPort, tunnel, internalPort, remote, owner, timeout);

    public static ForwardingEntry Udp(ushort publicPort, IPAddress tunnel, ushort internalPort, string owner, TimeSpan? timeout = null) =>
        new(Public, MappingProtocol.Udp, publicPort, tunnel, internalPort, owner, timeout);
}
