using System.Net;
using Portcullis.Client.PortForwarding;
using Portcullis.PortMapping;

namespace Portcullis.Client.KillSwitch;

/// <summary>A port accepted on the tunnel interface (and only there).</summary>
public sealed record ForwardedPort(ForwardProtocol Protocol, ushort Port);

/// <summary>What the kill switch lets through; everything else, in and out, IPv4 and IPv6, is dropped.</summary>
public sealed record KillSwitchSpec
{
    /// <summary>The tunnel interface: anything may leave through it. It need not exist yet (matched by name).</summary>
    public required string TunnelInterface { get; init; }

    /// <summary>The peers' resolved endpoints: the only destinations of UDP outside the tunnel.</summary>
    public required IReadOnlyList<IPEndPoint> Endpoints { get; init; }

    /// <summary>The mark the device puts on its encrypted packets; only marked packets reach the endpoints.</summary>
    public required uint FwMark { get; init; }

    /// <summary>
    /// Prefixes of the physical interfaces reachable with <c>--allow-lan</c>, from this host and from what it routes
    /// (guests reach the LAN and each other). Defaults to none. Opening the LAN lets LAN hosts (and whatever spoofs
    /// their addresses there) reach this host outside the tunnel. Their resolvers stay closed (DNS, port 53 and 853).
    /// </summary>
    public IReadOnlyList<IPNetwork> LanPrefixes { get; init; } = [];

    /// <summary>Let DHCP (v4 and v6) renew the physical lease while the kill switch holds. Defaults to false.</summary>
    public bool AllowDhcp { get; init; }

    /// <summary>
    /// Ports accepted inbound on the tunnel interface; dropped on every other interface, LAN or not. Kept in two nft
    /// sets that <see cref="KillSwitchTable.UpdateForwardedPorts"/> replaces when the lease changes. Defaults to none.
    /// </summary>
    public IReadOnlyList<ForwardedPort> ForwardedPorts { get; init; } = [];

    /// <summary>
    /// The gateway's tunnel address when a port is kept: its PCP ANNOUNCE / NAT-PMP announcement (UDP from port 5351
    /// to port 5350, RFC 6887 §14.1.3) is let in on the tunnel interface, so a restarted gateway is noticed at once.
    /// Defaults to none.
    /// </summary>
    public IPAddress? AnnounceSource { get; init; }

    /// <summary>
    /// The gateway's IPv6 tunnel address when an IPv6 port is kept too: its PCP ANNOUNCE to the IPv6 keeper is let in
    /// likewise. Defaults to none.
    /// </summary>
    public IPAddress? AnnounceSource6 { get; init; }
}
