using System.Net;
using Portcullis.Gateway.Forwarding;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Configuration;

/// <summary>
/// The gateway's configuration file (DESIGN §6), validated: every value here is in range and consistent with the
/// others. Built only by <see cref="GatewayConfigLoader"/>, which names the file, line and key of every error.
/// </summary>
public sealed record GatewayConfig
{
    /// <summary>The file this was read from (relative paths inside it resolve against its folder).</summary>
    public required string SourcePath { get; init; }

    public required TunnelSection Tunnel { get; init; }

    public required NatSection Nat { get; init; }

    /// <summary>[forwarding]: keys left out keep <see cref="ForwardingPolicy"/>'s documented defaults.</summary>
    public ForwardingPolicy Forwarding { get; init; } = new();

    public StoreSection Store { get; init; } = new();

    /// <summary>[gateway]: this gateway's name in a fleet (required with a PostgreSQL store).</summary>
    public GatewaySection Gateway { get; init; } = new();

    public AdminSection Admin { get; init; } = new();

    public IReadOnlyList<PeerConfig> Peers { get; init; } = [];
}

/// <summary>[tunnel]: the WireGuard interface the clients connect to.</summary>
public sealed record TunnelSection
{
    public required string Interface { get; init; }

    /// <summary>
    /// The interface's private key (32 bytes), from <c>private_key</c> or <c>private_key_file</c>. A secret: never
    /// logged or printed; whoever ends the gateway's life zeroes it.
    /// </summary>
    public required byte[] PrivateKey { get; init; }

    /// <summary>UDP port. Defaults to 51820.</summary>
    public ushort ListenPort { get; init; } = 51820;

    /// <summary>The gateway's own tunnel address, e.g. 10.99.0.1.</summary>
    public required IPAddress Address { get; init; }

    /// <summary>The clients' prefix, e.g. 10.99.0.0/16: every peer's address comes from it.</summary>
    public required IPNetwork Prefix { get; init; }

    /// <summary>
    /// A peer's session (and with it its dynamic mappings) ends after this long without an authenticated packet.
    /// Defaults to 180 s (REJECT_AFTER_TIME). Shorter values free ports sooner but need clients with a persistent
    /// keepalive below it.
    /// </summary>
    public TimeSpan SessionTimeout { get; init; } = TimeSpan.FromSeconds(180);

    /// <summary>Peers may reach each other's tunnel addresses. Defaults to false: clients are isolated.</summary>
    public bool AllowPeerToPeer { get; init; }

    /// <summary>
    /// The resolvers written as <c>DNS =</c> into generated client configs, 1-3 IPv4 addresses. Defaults to Quad9
    /// (<see cref="TunnelDns.Default"/>): its trade-offs, and what is refused, are on <see cref="TunnelDns"/>.
    /// </summary>
    public IReadOnlyList<IPAddress> Dns { get; init; } = TunnelDns.Default;

    /// <summary>
    /// Peers may reach TCP/UDP 53 on the gateway's tunnel address, for a resolver the operator runs there. Defaults to
    /// false: from the tunnel the gateway answers NAT-PMP/PCP and ICMP on its tunnel address, nothing else.
    /// </summary>
    public bool AllowDns { get; init; }

    /// <summary>
    /// Keep each peer's last endpoint in /run/portcullis/INTERFACE.endpoints (memory: gone at reboot; removed on a clean
    /// stop), so that after a crash the gateway calls every peer back at once instead of waiting up to two minutes for
    /// stock clients to handshake. Defaults to true. The cost: while the file exists, root on this host can read where
    /// each peer last connected from — as it can from the running gateway (<c>wg show</c>) — even after the gateway died.
    /// </summary>
    public bool RememberEndpoints { get; init; } = true;

    /// <summary>
    /// The tunnel's IPv6 side (<c>address6</c>: NAT66, or <c>routed_prefix6</c>: routed, no NAT). Defaults to null: the
    /// tunnel carries IPv4 only.
    /// </summary>
    public TunnelIpv6? Ipv6 { get; init; }

    /// <summary>The gateway's own IPv6 tunnel address (its <see cref="Address"/>'s twin), or null without IPv6.</summary>
    public IPAddress? Address6 => Ipv6?.Twin(Address);

    // The key stays out of ToString (records print every property).
    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append($"Interface = {Interface}, ListenPort = {ListenPort}, Address = {Address}, Prefix = {Prefix}");
        return true;
    }
}

/// <summary>[nat]: where clients' traffic leaves and mapped traffic arrives.</summary>
public sealed record NatSection
{
    public required string PublicInterface { get; init; }

    /// <summary>Shared public addresses; the first is the default.</summary>
    public required IReadOnlyList<IPAddress> PublicAddresses { get; init; }

    /// <summary>
    /// Public IPv6 addresses peers' IPv6 traffic is masqueraded to (NAT66, <c>[tunnel] address6</c>); the first is
    /// used. Defaults to none; required with address6, unused with routed_prefix6.
    /// </summary>
    public IReadOnlyList<IPAddress> PublicAddresses6 { get; init; } = [];

    /// <summary>
    /// Link-local, private or carrier-grade NAT destinations behind the public interface that peers may reach anyway
    /// (the provider's resolver, an internal service meant for them). Defaults to none: such destinations — cloud
    /// metadata at 169.254.169.254, the operator's own networks — are dropped, since every peer could otherwise reach
    /// what only the gateway host should.
    /// </summary>
    public IReadOnlyList<IPNetwork> AllowDestinations { get; init; } = [];
}

/// <summary>
/// [store]: where the gateway keeps peers, tunnel addresses, static forwards, dedicated addresses and policy
/// overrides: a SQLite file for one gateway (made 0600, its directory 0700, when missing; a backup copy PATH.bak-vN
/// before a schema migration), or a PostgreSQL database a fleet of gateways shares (<see cref="Url"/>).
/// </summary>
public sealed record StoreSection
{
    /// <summary>SQLite. Defaults to /var/lib/portcullis/portcullis.db; unused when <see cref="Url"/> is set.</summary>
    public string Path { get; init; } = "/var/lib/portcullis/portcullis.db";

    /// <summary>A libpq URI, <c>postgresql://USER@HOST:PORT/DB</c>: the fleet's shared store. Null: SQLite at <see cref="Path"/>.</summary>
    public string? Url { get; init; }

    /// <summary>The database password's file (0600); null: PGPASSFILE or ~/.pgpass, as libpq does.</summary>
    public string? PasswordFile { get; init; }
}

/// <summary>[gateway]: who this gateway is in its fleet.</summary>
public sealed record GatewaySection
{
    /// <summary>Unique in the fleet; required with a PostgreSQL store. Null for a one-box gateway.</summary>
    public string? Name { get; init; }

    /// <summary>Free text for the operator's view (e.g. "eu-west"). Defaults to empty.</summary>
    public string Region { get; init; } = "";

    /// <summary>
    /// Whether this gateway records in the fleet's store which of its peers are connected to it now, so
    /// <c>peer list</c> can say where each peer is. Defaults to true. The cost: whoever can read the database learns
    /// which server each connected user is on at the moment (not when they came, nor their addresses or ports; rows
    /// go when the session ends). False keeps this gateway's presence out of the store.
    /// </summary>
    public bool Presence { get; init; } = true;
}

/// <summary>[admin]: the admin listener (API, /metrics, health, console).</summary>
public sealed record AdminSection
{
    public IPEndPoint? Listen { get; init; }

    public string? TokenFile { get; init; }

    /// <summary>
    /// Per-peer traffic series in /metrics (a <c>peer</c> label). Defaults to false: metrics then name no peer.
    /// </summary>
    public bool MetricsPerPeer { get; init; }
}

/// <summary>One [[peer]].</summary>
public sealed record PeerConfig
{
    public required string Name { get; init; }

    /// <summary>32 bytes.</summary>
    public required byte[] PublicKey { get; init; }

    /// <summary>The peer's tunnel address when the file pins one; otherwise the store allocates one once and keeps it.</summary>
    public IPAddress? Address { get; init; }

    /// <summary>The peer's own public address: it egresses from it and is reached on it.</summary>
    public IPAddress? DedicatedAddress { get; init; }

    /// <summary>The peer's own public IPv6 address (NAT66 only): its IPv6 egresses from it and is reached on it.</summary>
    public IPAddress? DedicatedAddress6 { get; init; }

    /// <summary>Static forwards: in the kernel while this peer is connected, on its dedicated address if it has one.</summary>
    public IReadOnlyList<StaticForward> Forwards { get; init; } = [];

    /// <summary>The public key as <c>wg</c> prints it.</summary>
    public string PublicKeyBase64 => Convert.ToBase64String(PublicKey);

    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append($"Name = {Name}, PublicKey = {PublicKeyBase64}, Address = {Address}");
        return true;
    }
}

/// <summary>
/// One [[peer.forward]]: a persistent forward, live while its peer is connected. <paramref name="PublicAddress"/>
/// pins it to one of this gateway's addresses: a shared or the peer's dedicated IPv4 address, or an IPv6 one (with
/// NAT66 one of <c>public_addresses6</c>, routed the peer's own /128); null: the peer's dedicated address, else the
/// default (in a fleet: every gateway's).
/// </summary>
public sealed record StaticForward(ForwardProtocol Protocol, ushort ExternalPort, ushort InternalPort, IPAddress? PublicAddress = null);
