using System.Net;
using Microsoft.Extensions.Logging;

namespace Portcullis.Client.PortForwarding;

/// <summary>A mapping the gateway granted.</summary>
public sealed record PortLease(ForwardProtocol Protocol, IPAddress? ExternalAddress, ushort ExternalPort, ushort InternalPort, DateTimeOffset Expires);

/// <summary>What <c>connect</c> hands the port keeper once the tunnel is up.</summary>
public sealed record PortKeeperOptions
{
    public required ForwardRequest Forward { get; init; }

    /// <summary>Where PCP / NAT-PMP requests go (the gateway's tunnel address).</summary>
    public required IPAddress Gateway { get; init; }

    public required string TunnelInterface { get; init; }

    /// <summary>Replaced atomically with the port number whenever it changes. Defaults to none.</summary>
    public string? PortFile { get; init; }

    /// <summary>Run with the port in $PORTCULLIS_PORT and in place of {port}. Defaults to none.</summary>
    public string? OnPortChange { get; init; }
}

/// <summary>
/// The seam for issue 5 item 3 (not built yet): keeps one mapping alive at the gateway while the tunnel is up —
/// maps, refreshes before expiry, maps again when the gateway lost state, publishes the port, deletes the mapping
/// when disposed. <c>connect</c> starts it after the tunnel is up and disposes it before tearing the tunnel down.
/// </summary>
public interface IPortKeeper : IAsyncDisposable
{
    /// <summary>The lease held now; null before the first mapping or after one was lost.</summary>
    PortLease? Current { get; }

    /// <summary>Raised after the external port (or lease) changed; the kill switch opens the new port on the tunnel.</summary>
    event Action<PortLease>? LeaseChanged;

    /// <summary>Begins mapping in the background; returns at once. Failures are logged and retried, never thrown.</summary>
    void Start();
}

/// <summary>Builds the port keeper; <c>connect</c> refuses <c>--forward</c> while none is registered.</summary>
public interface IPortKeeperFactory
{
    IPortKeeper Create(PortKeeperOptions options, ILogger logger);
}
