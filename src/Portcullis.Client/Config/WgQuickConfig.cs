using System.Net;
using System.Security.Cryptography;

namespace Portcullis.Client.Config;

/// <summary>An address of the <c>[Interface]</c>, host bits kept (10.99.0.2/16: address 10.99.0.2, prefix 16).</summary>
public sealed record InterfaceAddress(IPAddress Address, int PrefixLength)
{
    public override string ToString() => $"{Address}/{PrefixLength}";
}

/// <summary>A peer's <c>Endpoint</c> as written: a host name or address, and a port. Resolved when connecting.</summary>
public sealed record PeerEndpoint(string Host, ushort Port)
{
    public override string ToString() => Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
}

/// <summary>
/// The <c>[Interface]</c> section. <see cref="PrivateKey"/> is secret: it is left out of <see cref="ToString"/> and
/// zeroed by <see cref="WgQuickConfig.Dispose"/>.
/// </summary>
public sealed record InterfaceSection
{
    public required byte[] PrivateKey { get; init; }

    public IReadOnlyList<InterfaceAddress> Addresses { get; init; } = [];

    /// <summary>DNS entries that are addresses: the resolvers set while connected.</summary>
    public IReadOnlyList<IPAddress> DnsServers { get; init; } = [];

    /// <summary>DNS entries that are not addresses: search domains, as wg-quick treats them.</summary>
    public IReadOnlyList<string> DnsSearch { get; init; } = [];

    /// <summary>The tunnel MTU. Defaults to 1420 when unset.</summary>
    public int? Mtu { get; init; }

    public ushort? ListenPort { get; init; }

    /// <summary>The mark on the encrypted packets. Defaults to the routing table number (51820).</summary>
    public uint? FwMark { get; init; }

    /// <summary>wg-quick's <c>Table</c>: null or "auto" = 51820, "off" = no routes at all, or a table number.</summary>
    public string? Table { get; init; }

    public override string ToString() =>
        $"InterfaceSection {{ Addresses = {string.Join(", ", Addresses)}, Dns = {string.Join(", ", DnsServers)}, Mtu = {Mtu}, ListenPort = {ListenPort}, FwMark = {FwMark}, Table = {Table} }}";
}

/// <summary>One <c>[Peer]</c> section. <see cref="PresharedKey"/> is secret (left out of <see cref="ToString"/>).</summary>
public sealed record PeerSection
{
    public required byte[] PublicKey { get; init; }

    public byte[]? PresharedKey { get; init; }

    public PeerEndpoint? Endpoint { get; init; }

    /// <summary>Prefixes with host bits cleared, as wg stores them.</summary>
    public IReadOnlyList<IPNetwork> AllowedIps { get; init; } = [];

    public ushort? PersistentKeepalive { get; init; }

    public override string ToString() =>
        $"PeerSection {{ PublicKey = {Convert.ToBase64String(PublicKey)}, Endpoint = {Endpoint}, AllowedIps = {string.Join(", ", AllowedIps)}, PersistentKeepalive = {PersistentKeepalive} }}";
}

/// <summary>A parsed wg-quick configuration file. Dispose to zero its keys.</summary>
public sealed record WgQuickConfig : IDisposable
{
    /// <summary>wg-quick's default table (and mark) for a full tunnel.</summary>
    public const int DefaultTable = 51820;

    /// <summary>The tunnel MTU when the file sets none.</summary>
    public const int DefaultMtu = 1420;

    public required string Path { get; init; }

    public required InterfaceSection Interface { get; init; }

    public IReadOnlyList<PeerSection> Peers { get; init; } = [];

    public int Mtu => Interface.Mtu ?? DefaultMtu;

    /// <summary>The table the full-tunnel default routes go to; null when <c>Table = off</c> (no routes).</summary>
    public int? RoutingTable => Interface.Table switch
    {
        null => DefaultTable,
        var t when t.Equals("auto", StringComparison.OrdinalIgnoreCase) => DefaultTable,
        var t when t.Equals("off", StringComparison.OrdinalIgnoreCase) => null,
        var t => int.Parse(t, System.Globalization.CultureInfo.InvariantCulture),
    };

    public uint FwMark => Interface.FwMark ?? (uint)(RoutingTable ?? DefaultTable);

    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(Interface.PrivateKey);
        foreach (var peer in Peers)
        {
            if (peer.PresharedKey is { } psk)
                CryptographicOperations.ZeroMemory(psk);
        }
    }

    public override string ToString() => $"WgQuickConfig {{ Path = {Path}, {Interface}, Peers = {Peers.Count} }}";
}
