using System.Net;
using Portcullis.Core.Io;

namespace Portcullis.WireGuard.Uapi;

/// <summary>
/// One <c>public_key=</c> block of a <c>set=1</c> request, already validated. Lines are folded the way
/// wireguard-go applies them one by one: <c>replace_allowed_ips</c> drops the prefixes listed before it,
/// and once <c>remove=true</c> is seen the rest of the block changes nothing.
/// </summary>
public sealed record UapiPeerChange
{
    public required byte[] PublicKey { get; init; }

    public bool Remove { get; init; }

    /// <summary>Only change an existing peer; never create one.</summary>
    public bool UpdateOnly { get; init; }

    /// <summary>Null = unchanged, all-zero = clear.</summary>
    public byte[]? PresharedKey { get; init; }

    public UdpEndpoint? Endpoint { get; init; }

    /// <summary>Seconds, 0 = off; null = unchanged.</summary>
    public ushort? PersistentKeepaliveInterval { get; init; }

    public bool ReplaceAllowedIps { get; init; }

    /// <summary>Host bits already masked off (as the kernel stores them).</summary>
    public IReadOnlyList<IPNetwork> AddedAllowedIps { get; init; } = [];

    /// <summary><c>allowed_ip=-prefix</c> (newer wg); host bits masked off.</summary>
    public IReadOnlyList<IPNetwork> RemovedAllowedIps { get; init; } = [];
}

/// <summary>A whole, validated <c>set=1</c> request; the device applies all of it or nothing.</summary>
public sealed record UapiSetRequest
{
    /// <summary>Null = unchanged, all-zero = clear. Not clamped: the device clamps.</summary>
    public byte[]? PrivateKey { get; init; }

    public ushort? ListenPort { get; init; }

    /// <summary>Null = unchanged, 0 = clear.</summary>
    public uint? Fwmark { get; init; }

    /// <summary>Remove every peer before applying <see cref="Peers"/>.</summary>
    public bool ReplacePeers { get; init; }

    public IReadOnlyList<UapiPeerChange> Peers { get; init; } = [];
}
