using System.Net;
using Microsoft.Extensions.Logging;
using Portcullis.Client.Applications;
using Portcullis.PortMapping;

namespace Portcullis.Client.PortForwarding;

/// <summary>A mapping the gateway granted.</summary>
public sealed record PortLease(ForwardProtocol Protocol, IPAddress? ExternalAddress, ushort ExternalPort, ushort InternalPort, DateTimeOffset Expires);

/// <summary>What <c>connect</c> hands the port keeper once the tunnel is up.</summary>
public sealed record PortKeeperOptions
{
    public required ForwardSpec Forward { get; init; }

    /// <summary>Where PCP / NAT-PMP requests go (the gateway's tunnel address).</summary>
    public required IPAddress Gateway { get; init; }

    public required string TunnelInterface { get; init; }

    /// <summary>Replaced atomically with the port number whenever it changes. Defaults to none.</summary>
    public string? PortFile { get; init; }

    /// <summary>Run with the port in $PORTCULLIS_PORT and in place of {port}. Defaults to none.</summary>
    public string? OnPortChange { get; init; }

    /// <summary>
    /// Applications told each new port (qBittorrent, Transmission), in the background with retries; they belong to
    /// the caller, who disposes them after the keeper. Defaults to none.
    /// </summary>
    public IReadOnlyList<IPortPublisher> Publishers { get; init; } = [];

    /// <summary>The lifetime asked for; the gateway may grant less. Defaults to 3600 s (natpmpc's and Transmission's).</summary>
    public TimeSpan RequestedLifetime { get; init; } = TimeSpan.FromHours(1);

    /// <summary>
    /// The share of the granted lifetime after which the lease is refreshed. Defaults to 0.5, as Transmission does;
    /// libtorrent uses 0.75. Earlier refreshes notice a restarted gateway sooner at the cost of more requests.
    /// </summary>
    public double RefreshFraction { get; init; } = 0.5;

    /// <summary>The gateway's port-mapping port. Defaults to 5351.</summary>
    public int ServerPort { get; init; } = 5351;

    /// <summary>Where the gateway's unicast announcements arrive (any address, UDP). Defaults to 5350; 0 picks a free port.</summary>
    public int AnnouncePort { get; init; } = 5350;

    /// <summary>First wait after a refused or unanswered request; it doubles up to <see cref="RetryMax"/>. Defaults to 1 s.</summary>
    public TimeSpan RetryInitial { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Defaults to 60 s.</summary>
    public TimeSpan RetryMax { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How often the gateway's epoch is checked with a 24-byte PCP ANNOUNCE (NAT-PMP: public-address request) while a
    /// lease is held, so a gateway restart is noticed even when its announcement cannot arrive (lost on the way, or a
    /// firewall other than our kill switch, which lets it in, drops it). Defaults to 15 s; zero turns the probe off.
    /// </summary>
    public TimeSpan EpochCheckInterval { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>The hook is killed after this long. Defaults to 30 s.</summary>
    public TimeSpan HookTimeLimit { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long the delete on exit may take before the keeper gives up on it. Defaults to 3 s.</summary>
    public TimeSpan DeleteTimeLimit { get; init; } = TimeSpan.FromSeconds(3);
}

/// <summary>
/// The seam for issue 5 item 3 (<see cref="PortKeeper"/>): keeps one mapping alive at the gateway while the tunnel is up —
/// maps, refreshes before expiry, maps again when the gateway lost state, publishes the port, deletes the mapping
/// when disposed. <c>connect</c> starts it after the tunnel is up and disposes it before tearing the tunnel down.
/// </summary>
public interface IPortKeeper : IAsyncDisposable
{
    /// <summary>The lease held now; null before the first mapping or after one was lost.</summary>
    PortLease? Current { get; }

    /// <summary>
    /// Every mapping held now, one per protocol (two for <c>both</c>; their ports differ only when the gateway could
    /// not give the second protocol the first one's port). <see cref="LeaseChanged"/> is raised when any of them changes.
    /// </summary>
    IReadOnlyList<PortLease> Leases { get; }

    /// <summary>Raised after a lease was granted, refreshed or changed port (with <see cref="Current"/>, or the other
    /// protocol's lease when only that one changed); the kill switch opens the new port on the tunnel.</summary>
    event Action<PortLease>? LeaseChanged;

    /// <summary>Begins mapping in the background; returns at once. Failures are logged and retried, never thrown.</summary>
    void Start();
}

/// <summary>Builds the port keeper; <c>connect</c> refuses <c>--forward</c> while none is registered.</summary>
public interface IPortKeeperFactory
{
    IPortKeeper Create(PortKeeperOptions options, ILogger logger);
}
