using System.Net;

namespace Portcullis.Gateway.Store;

/// <summary>A peer as the store holds it.</summary>
public sealed record StoredPeer
{
    /// <summary>Opaque, made by the store, never reused; safe to log and to name kernel elements with.</summary>
    public required string Id { get; init; }

    public required string Name { get; init; }

    /// <summary>The WireGuard public key, base64 as <c>wg</c> prints it.</summary>
    public required string PublicKey { get; init; }

    /// <summary>The peer's one address in the tunnel prefix.</summary>
    public required IPAddress TunnelAddress { get; init; }

    /// <summary>A disabled peer keeps its address and forwards but gets no session.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>When the peer was added, UTC, to the millisecond.</summary>
    public required DateTimeOffset CreatedUtc { get; init; }
}

/// <summary>What <see cref="IGatewayStore.AddPeerAsync"/> needs.</summary>
public sealed record NewPeer
{
    public required string Name { get; init; }

    /// <summary>Base64 as <c>wg</c> prints it.</summary>
    public required string PublicKey { get; init; }

    /// <summary>Null: the store allocates the lowest free address of the pool.</summary>
    public IPAddress? TunnelAddress { get; init; }
}
