using System.Net;
using System.Net.Sockets;
using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Kernel;

namespace Portcullis.Gateway.Tests.Kernel.Support;

/// <summary>
/// Four namespaces joined by veth pairs, a stand-in for DESIGN §1 without WireGuard:
/// <code>
///  remote 198.51.100.100 ──veth── eth0 198.51.100.10, .11  gw  pc0 10.99.0.1/16 (bridge) ─┬─veth── client1 10.99.0.2
///                                                                                         └─veth── client2 10.99.0.3
/// </code>
/// The clients hold /32 addresses with only a route via 10.99.0.1, so — as through a WireGuard tunnel — even
/// client-to-client traffic is routed by the gateway (iif pc0, oif pc0) instead of being bridged. Only the gateway
/// forwards. The table is created inside the gateway namespace. Dispose removes every namespace.
/// With <c>management: true</c> the gateway has a second interface, mgmt0 172.31.0.1/24, to a management LAN host
/// (172.31.0.50) that routes 10.99.0.0/16 via the gateway. Reverse-path filtering is off in the gateway, so what
/// the table decides is what is tested.
/// </summary>
internal sealed class ForwardingLab : IDisposable
{
    public static readonly IPAddress ManagementGateway = IPAddress.Parse("172.31.0.1");
    public static readonly IPAddress ManagementHost = IPAddress.Parse("172.31.0.50");

    private readonly List<TestNamespace> _namespaces = [];

    public ForwardingLab(bool allowPeerToPeer = false) : this(Entries.Network(allowPeerToPeer))
    {
    }

    public ForwardingLab(GatewayNetwork network, bool management = false)
    {
        try
        {
            Remote = Add("remote");
            Gateway = Add("gw");
            Client1 = Add("client1");
            Client2 = Add("client2");
            if (network.Ipv6 is not null)
            {
                // Before any link exists: duplicate address detection off, so every address (link-local too) is usable at once.
                foreach (var ns in _namespaces)
                    ns.Exec("sysctl", "-q", "-w", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0");
            }
            Build();
            if (network.Ipv6 is not null)
                BuildIpv6();
            if (management)
            {
                Management = Add("mgmt");
                BuildManagement(Management);
            }
            Table = Gateway.Run(() => new NftForwardingTable());
            Table.Install(network);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>A public port and the client's internal port it leads to.</summary>
    public readonly record struct Mapping(ushort Public, ushort Internal);

    public TestNamespace Remote { get; }
    public TestNamespace Gateway { get; }
    public TestNamespace Client1 { get; }
    public TestNamespace Client2 { get; }

    /// <summary>The management LAN host; null unless asked for.</summary>
    public TestNamespace? Management { get; }
    public NftForwardingTable Table { get; }

    /// <summary>IPv6 (with a network that has <see cref="GatewayNetwork.Ipv6"/>): NAT66 from this public address.</summary>
    public static readonly IPAddress Public6 = IPAddress.Parse("2001:db8:1::a");
    public static readonly IPAddress Remote6 = IPAddress.Parse("2001:db8:1::100");
    public static readonly IPAddress Client1Ipv6 = IPAddress.Parse("fd99::2");
    public static readonly IPAddress Client2Ipv6 = IPAddress.Parse("fd99::3");

    /// <summary>The lab's network with NAT66: peers fd99::/64 behind <see cref="Public6"/>.</summary>
    public static GatewayNetwork Nat66Network() => Entries.Network() with
    {
        Ipv6 = new GatewayNetwork6
        {
            TunnelPrefix = IPNetwork.Parse("fd99::/64"),
            GatewayTunnelAddress = IPAddress.Parse("fd99::1"),
            PublicAddresses = [Public6],
        },
    };

    public static Socket TcpListener(TestNamespace ns, ushort port, bool ipv6 = false) => ns.Run(() =>
    {
        var socket = new Socket(ipv6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(ipv6 ? IPAddress.IPv6Any : IPAddress.Any, port));
        socket.Listen();
        return socket;
    });

    public static Socket UdpSocket(TestNamespace ns, ushort port, bool ipv6 = false) => ns.Run(() =>
    {
        var socket = new Socket(ipv6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(ipv6 ? IPAddress.IPv6Any : IPAddress.Any, port));
        return socket;
    });

    /// <summary>A TCP socket created in <paramref name="ns"/>; it connects from there whichever thread uses it.</summary>
    public static Socket TcpClient(TestNamespace ns, bool ipv6 = false) =>
        ns.Run(() => new Socket(ipv6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));

    public void Dispose()
    {
        Table?.Dispose();
        foreach (var ns in _namespaces)
            ns.Dispose();
    }

    private TestNamespace Add(string role)
    {
        var ns = new TestNamespace(role);
        _namespaces.Add(ns);
        return ns;
    }

    private void Build()
    {
        // Links are created inside the namespaces (ip -n), never in the root namespace.
        Gateway.Ip("link", "add", "eth0", "type", "veth", "peer", "name", "r0", "netns", Remote.Name);
        Gateway.Ip("addr", "add", "198.51.100.10/24", "dev", "eth0");
        Gateway.Ip("addr", "add", "198.51.100.11/24", "dev", "eth0"); // the dedicated address, as an operator adds it
        Gateway.Ip("link", "set", "eth0", "up");
        Remote.Ip("addr", "add", "198.51.100.100/24", "dev", "r0");
        Remote.Ip("link", "set", "r0", "up");

        Gateway.Ip("link", "add", "pc0", "type", "bridge");
        Gateway.Ip("addr", "add", "10.99.0.1/16", "dev", "pc0");
        Gateway.Ip("link", "set", "pc0", "up");
        AttachClient(Client1, "p1", "10.99.0.2");
        AttachClient(Client2, "p2", "10.99.0.3");

        // Forwarding on in the gateway only; no redirects, or a client would learn to bypass the gateway.
        // Reverse-path filtering off: the table must hold whatever the host's rp_filter says.
        Gateway.Exec("sysctl", "-q", "-w", "net.ipv4.ip_forward=1",
            "net.ipv4.conf.all.send_redirects=0", "net.ipv4.conf.pc0.send_redirects=0",
            "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0",
            "net.ipv4.conf.eth0.rp_filter=0", "net.ipv4.conf.pc0.rp_filter=0");
    }

    // The same shape in IPv6: eth0 2001:db8:1::a/64 ─ remote 2001:db8:1::100; pc0 fd99::1/64 ─ clients fd99::2, ::3 (/128,
    // routed by the gateway as through a tunnel).
    private void BuildIpv6()
    {
        Gateway.Exec("sysctl", "-q", "-w", "net.ipv6.conf.all.forwarding=1");
        Gateway.Ip("-6", "addr", "add", $"{Public6}/64", "dev", "eth0", "nodad");
        Gateway.Ip("-6", "addr", "add", "fd99::1/64", "dev", "pc0", "nodad");
        Remote.Ip("-6", "addr", "add", $"{Remote6}/64", "dev", "r0", "nodad");
        // A tunnel has no neighbour discovery: each side's link address is written in (forwarded packets' solicitations
        // on the bridge went unanswered here — the lab's quirk, not what is tested).
        var bridge = LinkAddress(Gateway, "pc0");
        foreach (var (client, address) in (ReadOnlySpan<(TestNamespace, IPAddress)>)[(Client1, Client1Ipv6), (Client2, Client2Ipv6)])
        {
            client.Ip("-6", "addr", "add", $"{address}/128", "dev", "c0", "nodad");
            client.Ip("-6", "route", "add", "fd99::1/128", "dev", "c0");
            client.Ip("-6", "route", "add", "default", "via", "fd99::1", "dev", "c0");
            client.Ip("-6", "neigh", "replace", "fd99::1", "lladdr", bridge, "dev", "c0", "nud", "permanent");
            Gateway.Ip("-6", "neigh", "replace", address.ToString(), "lladdr", LinkAddress(client, "c0"), "dev", "pc0", "nud", "permanent");
        }
    }

    // "pc0  UP  5a:52:c0:1e:1f:5b <…>": the link address of one interface.
    private static string LinkAddress(TestNamespace ns, string device) =>
        ns.Ip("-br", "link", "show", "dev", device).Split(' ', StringSplitOptions.RemoveEmptyEntries)[2];

    private void BuildManagement(TestNamespace management)
    {
        Gateway.Ip("link", "add", "mgmt0", "type", "veth", "peer", "name", "m0", "netns", management.Name);
        Gateway.Ip("addr", "add", $"{ManagementGateway}/24", "dev", "mgmt0");
        Gateway.Ip("link", "set", "mgmt0", "up");
        Gateway.Exec("sysctl", "-q", "-w", "net.ipv4.conf.mgmt0.rp_filter=0");
        management.Ip("addr", "add", $"{ManagementHost}/24", "dev", "m0");
        management.Ip("link", "set", "m0", "up");
        management.Ip("route", "add", "10.99.0.0/16", "via", ManagementGateway.ToString());
    }

    private void AttachClient(TestNamespace client, string port, string address)
    {
        Gateway.Ip("link", "add", port, "type", "veth", "peer", "name", "c0", "netns", client.Name);
        Gateway.Ip("link", "set", port, "master", "pc0");
        Gateway.Ip("link", "set", port, "up");
        client.Ip("addr", "add", $"{address}/32", "dev", "c0");
        client.Ip("link", "set", "c0", "up");
        client.Ip("route", "add", "10.99.0.1/32", "dev", "c0");
        client.Ip("route", "add", "default", "via", "10.99.0.1", "dev", "c0");
        client.Exec("sysctl", "-q", "-w", "net.ipv4.conf.all.accept_redirects=0", "net.ipv4.conf.c0.accept_redirects=0");
    }
}
