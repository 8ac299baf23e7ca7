using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Portcullis.Gateway.Admin;
using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Hosting;
using Portcullis.Gateway.Peers;
using Portcullis.Gateway.Store;
using Portcullis.Gateway.Store.Sqlite;
using Portcullis.Gateway.Tests.Forwarding;
using Portcullis.Gateway.Tests.Store;

namespace Portcullis.Gateway.Tests.Hosting;

/// <summary>
/// GatewayOperations as the host builds it, without a kernel: a real SQLite store in a temp directory, the real
/// forwarding service over the in-memory table, and doubles of the device (peers in and out, sessions on demand)
/// and of the conntrack flush (records what it was asked).
/// </summary>
internal sealed class OperationsFixture : IAsyncDisposable
{
    public static readonly IPAddress Shared = IPAddress.Parse("198.51.100.10");
    public static readonly IPAddress SecondShared = IPAddress.Parse("198.51.100.12");
    public static readonly IPAddress Public6 = IPAddress.Parse("2001:db8:1::a");
    public const string GatewayKey = "uDkX0V4aJmVqZz7DpZb0L0sA4f1u0ZlGk1s3nQm2cRk=";

    private OperationsFixture(StoreFixture files, SqliteGatewayStore store, ForwardingPolicy policy, Action<Portcullis.Gateway.Forwarding.InboundLimits>? applyInboundLimits,
        Portcullis.Gateway.Configuration.TunnelIpv6? ipv6)
    {
        Files = files;
        Store = store;
        Service = new ForwardingService(Table, [Shared, SecondShared], policy, Forwarding.Time, Forwarding.Logger, new Random(1))
        {
            Ipv6 = ipv6 is null ? null : new ForwardingIpv6(ipv6, ipv6.Routed ? null : Public6),
        };
        Service.Start();
        Operations = new GatewayOperations(Store, new GatewayIdentity
        {
            Interface = "pc0",
            PublicKey = GatewayKey,
            ListenPort = 51820,
            TunnelAddress = IPAddress.Parse("10.99.0.1"),
            TunnelPrefix = IPNetwork.Parse("10.99.0.0/16"),
            PublicAddresses = [Shared, SecondShared],
            Ipv6 = ipv6,
            PublicAddresses6 = ipv6 is { Routed: false } ? [Public6] : [],
            Dns = [IPAddress.Parse("10.99.0.1"), IPAddress.Parse("9.9.9.9")],
            StartedUtc = new DateTimeOffset(2026, 11, 24, 12, 0, 0, TimeSpan.Zero),
        }, policy, Device, Service, Peers, Flows, NullLogger.Instance)
        {
            ApplyInboundLimits = applyInboundLimits,
        };
        Device.Sessions = this;
    }

    /// <param name="ipv6">The tunnel's IPv6 side; with NAT66 the gateway's public IPv6 address is <see cref="Public6"/>.</param>
    public static async Task<OperationsFixture> CreateAsync(ForwardingPolicy? policy = null, Action<Portcullis.Gateway.Forwarding.InboundLimits>? applyInboundLimits = null,
        Portcullis.Gateway.Configuration.TunnelIpv6? ipv6 = null)
    {
        var files = new StoreFixture();
        var store = await files.OpenAsync();
        return new OperationsFixture(files, store, policy ?? new ForwardingPolicy(), applyInboundLimits, ipv6);
    }

    public StoreFixture Files { get; }

    public SqliteGatewayStore Store { get; }

    public InMemoryForwardingTable Table { get; } = new();

    public (Microsoft.Extensions.Time.Testing.FakeTimeProvider Time, CapturingLogger<ForwardingService> Logger) Forwarding { get; } =
        (new Microsoft.Extensions.Time.Testing.FakeTimeProvider(), new CapturingLogger<ForwardingService>());

    public ForwardingService Service { get; }

    public PeerDirectory Peers { get; } = new();

    public FakePeerDevice Device { get; } = new();

    public RecordingFlows Flows { get; } = new();

    public GatewayOperations Operations { get; }

    /// <summary>What the host's session events do when the device says a peer connected.</summary>
    public void Connect(PeerView peer)
    {
        Device.Connect(peer.PublicKey);
        var stored = Peers.FindByKey(peer.PublicKey);
        if (stored is { Enabled: true })
            Service.PeerSessionStarted(stored.Id, stored.TunnelAddress);
    }

    public async ValueTask DisposeAsync()
    {
        Operations.Dispose();
        Service.Dispose();
        await Store.DisposeAsync();
        Files.Dispose();
    }
}

/// <summary>The device double: which peers it holds (with their allowed-ips) and which have a session.</summary>
internal sealed class FakePeerDevice : IGatewayPeerDevice
{
    private readonly Dictionary<string, IPAddress> _peers = new(StringComparer.Ordinal);
    private readonly HashSet<string> _connected = new(StringComparer.Ordinal);

    public OperationsFixture? Sessions { get; set; }

    public IReadOnlyDictionary<string, IPAddress> Held => _peers;

    public void AddPeer(StoredPeer peer) => _peers[peer.PublicKey] = peer.TunnelAddress;

    public void RemovePeer(string publicKey)
    {
        _peers.Remove(publicKey);
        _connected.Remove(publicKey);
    }

    public PeerLink GetLink(string publicKey) =>
        _connected.Contains(publicKey) ? new PeerLink(true, new DateTimeOffset(2026, 11, 24, 12, 1, 0, TimeSpan.Zero)) : default;

    public void Connect(string publicKey)
    {
        if (!_peers.ContainsKey(publicKey))
            throw new InvalidOperationException("A peer the device does not hold cannot connect.");
        _connected.Add(publicKey);
    }
}

internal sealed class RecordingFlows : IPeerFlows
{
    public List<IPAddress> Cut { get; } = [];

    void IPeerFlows.Cut(IPAddress tunnelAddress) => Cut.Add(tunnelAddress);
}
