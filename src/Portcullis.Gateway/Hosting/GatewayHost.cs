using System.Net;
using System.Runtime.Versioning;
using Microsoft.Extensions.Logging;
using Portcullis.Gateway.Admin;
using Portcullis.Gateway.Admin.Http;
using Portcullis.Gateway.Audit;
using Portcullis.Gateway.Configuration;
using Portcullis.Gateway.Fleet;
using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Health;
using Portcullis.Gateway.Kernel;
using Portcullis.Gateway.Metrics;
using Portcullis.Gateway.Peers;
using Portcullis.Gateway.Reachability;
using Portcullis.Gateway.Store;
using Portcullis.Gateway.Store.Sqlite;
using Portcullis.Linux.Links;
using Portcullis.Linux.Nftables;
using Portcullis.Linux.Tun;
using Portcullis.Linux.Udp;
using Portcullis.PortMapping;
using Portcullis.PortMapping.Server;
using Portcullis.WireGuard.Device;
using Portcullis.WireGuard.Uapi;

namespace Portcullis.Gateway.Hosting;

// The gateway in one process, in the network namespace it runs in. Start, in order:
//  1. the store (SQLite at store.path, or a fleet's PostgreSQL at store.url — then the change feed listens from here
//     on, see Fleet/FleetMember): a corrupt, locked or too new store stops the start here, before anything
//     exists in the kernel, and is left as it was; the config's [[peer]] entries are applied to it (the file wins
//     for what it names), and its peers, static forwards, dedicated addresses and policy overrides are read (in a
//     fleet: only what is this gateway's, see Fleet/GatewayScope)
//  2. TUN + WireGuard device: private key, listen port, one peer per enabled stored peer, allowed-ips = its /32;
//     the config's copy of the private key is zeroed once the device holds its own (DeviceSetup)
//  3. the TUN gets the gateway's address (and its IPv6 twin with [tunnel] address6/routed_prefix6) and goes up; IPv4
//     forwarding on (/proc/sys/net/ipv4/ip_forward), and IPv6 forwarding with IPv6 (TunnelInterfaceSetup)
//  4. the nftables table is installed, then the forwarding service starts with the stored static forwards and
//     dedicated addresses (their egress routes replace the previous run's):
//     reconciliation removes every element nobody owns before any session exists (dynamic leases of a previous
//     run included: the epoch restarts), so nothing points at an address a restart may have reassigned
//  5. session events (public key → stored peer → id, tunnel address) flow to the service — a static forward
//     enters the kernel with its peer's session; the stored replay floors go to the device (PeerMemory), the device
//     comes up, the UAPI socket opens (`wg show` works) and the NAT-PMP/PCP server listens on the tunnel address,
//     UDP 5351 (and the reachability checks, TCP 8352); then the gateway handshakes with every peer whose endpoint
//     the previous run remembered in /run
//  6. the operations (store + device + service) and, with [admin] listen, the admin API over them (with /healthz,
//     /readyz and /metrics; kernel transactions and store calls are timed from the start) — started last,
//     stopped first, so no operator change lands on a half-built or half-stopped gateway; in a fleet, the changes
//     other gateways make flow into the same operations from here on; then "Gateway up"
// Stop (SIGTERM/SIGINT) undoes it in reverse and uninstalls the table: a stopped gateway leaves no mapping, no
// masquerade, no trace. A crash leaves the table; element timeouts bound the dynamic ones and the next start's
// reconciliation clears all of them, static ones included, until their peers' sessions bring those back.

/// <summary>A running gateway: <see cref="StartAsync"/>, then <see cref="DisposeAsync"/> to stop.</summary>
[SupportedOSPlatform("linux")]
public sealed class GatewayHost : IAsyncDisposable
{
    private readonly ILogger _logger;
    private readonly ILoggerFactory _loggers;
    private readonly TimeProvider _time;
    private readonly PeerDirectory _peers = new();
    private IGatewayStore? _store;
    private IGatewayStore? _meteredStore;
    private FleetMember? _fleet;
    private GatewayScope? _scope;
    private WireGuardDevice? _device;
    private UapiServer? _uapi;
    private NftForwardingTable? _table;
    private NftInboundLimits? _inboundLimits;
    private AuditRecorder? _audit;
    private ForwardingService? _service;
    private SessionEvents? _sessions;
    private PeerMemory? _memory;
    private PortMappingServer? _portMapping;
    private PortMappingServer? _portMapping6;
    private GatewayOperations? _operations;
    private AdminServer? _admin;
    private GatewayReadiness? _readiness;
    private SessionCounters? _sessionCounters;
    private ConntrackPeerFlows? _peerFlows;
    private ReachabilityServer? _reachability;
    private int _disposed;

    private GatewayHost(GatewayConfig config, ILoggerFactory loggers, TimeProvider time)
    {
        _time = time;
        Config = config;
        Metrics = new GatewayMetrics(GatewayMetricsOptions.From(config));
        _loggers = loggers;
        _logger = loggers.CreateLogger("portcullis.gateway");
    }

    public GatewayConfig Config { get; }

    /// <summary>What /metrics shows; kernel transactions and store calls are timed from the start.</summary>
    public GatewayMetrics Metrics { get; }

    public ForwardingService Forwarding => _service ?? throw new InvalidOperationException("The gateway is not started.");

    /// <summary>What an operator can do to this gateway (the admin API sits on it).</summary>
    public IGatewayOperations Operations => _operations ?? throw new InvalidOperationException("The gateway is not started.");

    /// <summary>
    /// Starts the gateway for <paramref name="config"/>. Throws <see cref="StoreException"/> (its message names the
    /// file) when the store cannot be opened or the config's peers cannot be applied to it, and whatever the OS says
    /// when an interface, socket or table cannot be made; everything already made is undone before it throws.
    /// </summary>
    public static Task<GatewayHost> StartAsync(GatewayConfig config, ILoggerFactory loggers, CancellationToken cancellationToken = default) =>
        StartAsync(config, loggers, TimeProvider.System, cancellationToken);

    /// <summary>
    /// As <see cref="StartAsync(GatewayConfig, ILoggerFactory, CancellationToken)"/>, with every clock of the gateway on
    /// <paramref name="time"/> (the device's timers, leases, stored timestamps, peer memory, reachability checks, the
    /// fleet's heartbeat, console sessions): tests run the assembled gateway on virtual time.
    /// </summary>
    public static async Task<GatewayHost> StartAsync(GatewayConfig config, ILoggerFactory loggers, TimeProvider time, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(loggers);
        ArgumentNullException.ThrowIfNull(time);
        var host = new GatewayHost(config, loggers, time);
        try
        {
            await host.StartCoreAsync(cancellationToken).ConfigureAwait(false);
            return host;
        }
        catch
        {
            await host.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task StartCoreAsync(CancellationToken cancellationToken)
    {
        var tunnel = Config.Tunnel;
        var state = await LoadStoreAsync(cancellationToken).ConfigureAwait(false);

        var tun = LinuxTun.Create(tunnel.Interface);
        _device = new WireGuardDevice(tun, new LinuxBindFactory(), _loggers.CreateLogger("portcullis.device"),
            new DeviceOptions { SessionTimeout = tunnel.SessionTimeout }, _time);
        var publicKey = DeviceSetup.Configure(_device, tunnel, state.Peers);
        _memory = new PeerMemory(_device, _store is IReplayFloorStore floors ? MeteredStore.WrapFloors(floors, Metrics) : null, tunnel.RememberEndpoints ? EndpointFile.PathFor(tunnel.Interface) : null,
            _time, _loggers.CreateLogger("portcullis.memory"));
        await _memory.RestoreFloorsAsync(cancellationToken).ConfigureAwait(false);
        if (!tunnel.RememberEndpoints)
            File.Delete(EndpointFile.PathFor(tunnel.Interface));

        TunnelInterfaceSetup.Configure(tunnel);

        _table = new NftForwardingTable(_loggers.CreateLogger<NftForwardingTable>());
        IForwardingTable table = new MeteredForwardingTable(_table, Metrics);
        var auditTrail = await StartAuditAsync(cancellationToken).ConfigureAwait(false);
        if (auditTrail is not null)
            table = new AuditingForwardingTable(table, _audit!, _time);
        table.Install(TunnelInterfaceSetup.Network(Config) with { InboundLimits = state.Policy.InboundLimits });
        var inboundLimits = _inboundLimits = new NftInboundLimits();
        _service = new ForwardingService(table, Config.Nat.PublicAddresses, state.Policy, _time,
            _loggers.CreateLogger<ForwardingService>())
        {
            Ipv6 = tunnel.Ipv6 is { } v6 ? new ForwardingIpv6(v6, v6.Routed ? null : Config.Nat.PublicAddresses6[0]) : null,
        };
        _service.ReserveOwnPort(MappingProtocol.Udp, _device.ListenPort);
        _service.SetStaticForwards(state.StaticForwards);
        // Always, even empty: it also replaces whatever dedicated routes a previous run left in the kernel.
        _service.SetDedicatedAddresses(state.Dedicated);
        _service.Start();
        _sessions = new SessionEvents(_device, _peers, _service, _logger);
        _sessionCounters = new SessionCounters(_device);

        _device.Up();
        _uapi = UapiServer.Start(tunnel.Interface, _device, _loggers.CreateLogger("portcullis.uapi"));
        _portMapping = new PortMappingServer(_service,
            new PortMappingServerOptions
            {
                ListenAddress = tunnel.Address,
                AuditLog = Config.Forwarding.AuditLog,
                ArrivalInterfaceIndex = Link.GetIndex(tunnel.Interface),
            },
            _loggers.CreateLogger<PortMappingServer>());
        await _portMapping.StartAsync(cancellationToken).ConfigureAwait(false);
        if (tunnel.Address6 is { } address6)
        {
            // PCP for peers' IPv6 addresses (RFC 6887 §11) on the IPv6 tunnel address, counted with the IPv4 server's.
            _portMapping6 = new PortMappingServer(_service,
                new PortMappingServerOptions
                {
                    ListenAddress = address6,
                    AuditLog = Config.Forwarding.AuditLog,
                    ArrivalInterfaceIndex = Link.GetIndex(tunnel.Interface),
                },
                _portMapping.Counters,
                _loggers.CreateLogger<PortMappingServer>());
            await _portMapping6.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        var portMapping = _portMapping;
        var portMapping6 = _portMapping6;
        var ipv6 = tunnel.Ipv6;
        _sessions.SessionStartedHook = address =>
        {
            portMapping.Announce([address]);
            // A peer's IPv6 port keeper maps at the IPv6 tunnel address and hears of a restart from there only.
            if (portMapping6 is not null && ipv6 is not null && ipv6.Ipv4Prefix.Contains(address))
                portMapping6.Announce([ipv6.Twin(address)]);
        };
        // After a crash: call back the peers the previous run remembered (their sessions now reach the service and
        // the announcement above), then keep endpoints and floors as they change.
        _memory.RestoreEndpoints();
        _memory.Start();

        _peerFlows = new ConntrackPeerFlows(_table, tunnel.Ipv6);
        var store = _meteredStore!;
        _operations = new GatewayOperations(store, Identity(publicKey, _device.ListenPort), Config.Forwarding, new DevicePeers(_device, tunnel.Ipv6),
            _service, _peers, _peerFlows, _loggers.CreateLogger("portcullis.admin"), _scope)
        {
            AuditTrail = auditTrail,
            ApplyInboundLimits = inboundLimits.Set,
        };
        if (_fleet is not null)
        {
            var fleet = _fleet;
            _sessions.PresenceHook = fleet.OnSession;
            fleet.Attach(_operations, _service);
        }
        var nftTable = _table;
        Metrics.Attach(new GatewayMetricSources
        {
            Device = _device,
            Peers = _peers,
            Forwarding = _service,
            PortRequests = _portMapping.Counters,
            Sessions = _sessionCounters,
            FlowsDeleted = () => nftTable.FlowsDeleted,
            InboundDrops = inboundLimits.ReadDrops,
        });
        var checker = new ReachabilityChecker(_service, _peers, Metrics, _time);
        _reachability = await ReachabilityServer.StartAsync(tunnel.Address, checker, _loggers, cancellationToken).ConfigureAwait(false);
        if (Config.Admin.Listen is not null)
        {
            _readiness = new GatewayReadiness(tunnel.Interface, new NftContext(), NftForwardingTable.TableName, store,
                storeOutageDegrades: _fleet is not null, ipv6: tunnel.Ipv6 is not null);
            _admin = await AdminServer.StartAsync(Config.Admin, _operations, _loggers, cancellationToken,
                new AdminFeatures { Readiness = _readiness, Metrics = Metrics, Reachability = checker, Time = _time }).ConfigureAwait(false);
            GatewayHostLog.AdminListening(_logger, _admin.Endpoint);
        }
        // Last: "up" is a promise that every listener (WireGuard, UAPI, port requests, admin API and its token file)
        // answers. Scripts, tests and systemd's READY=1 (the runner) order on it.
        GatewayHostLog.Started(_logger, tunnel.Interface, tunnel.Address, tunnel.Prefix.PrefixLength, _device.ListenPort,
            _peers.Count, Config.Nat.PublicInterface);
    }

    // The opt-in audit trail ([forwarding] audit_log): recorded from the kernel commits, pruned to audit_retention. With
    // auditing off nothing is recorded, but what an earlier run recorded is still pruned to the retention, so turning
    // auditing off does not keep old records forever.
    private async Task<IAuditStore?> StartAuditAsync(CancellationToken cancellationToken)
    {
        if (_store is not IAuditStore trail)
            return null;
        var peers = _peers;
        _audit = new AuditRecorder(trail, id => peers.FindById(id)?.Name, Config.Forwarding.AuditRetention, _time,
            _loggers.CreateLogger("portcullis.audit"));
        await _audit.StartAsync(cancellationToken, recording: Config.Forwarding.AuditLog).ConfigureAwait(false);
        return Config.Forwarding.AuditLog ? trail : null;
    }

    private sealed record StoreState(
        IReadOnlyList<StoredPeer> Peers, IReadOnlyList<StaticForwardRule> StaticForwards, IReadOnlyList<DedicatedAssignment> Dedicated,
        ForwardingPolicy Policy);

    // Step 1: open, apply the file's peers, read what the gateway starts from. Peers go into the directory here.
    private async Task<StoreState> LoadStoreAsync(CancellationToken cancellationToken)
    {
        if (Config.Store.Url is not null)
        {
            _fleet = await FleetMember.OpenAsync(Config, _loggers, _time, cancellationToken).ConfigureAwait(false);
            _store = _fleet.Store;
        }
        else
        {
            _store = await SqliteGatewayStore.OpenAsync(Config.Store.Path, _time, _loggers.CreateLogger("portcullis.store"), cancellationToken)
                .ConfigureAwait(false);
        }
        _meteredStore = MeteredStore.Wrap(_store, Metrics);
        var store = _meteredStore;
        var scope = _scope = new GatewayScope(Config.Store.Url is not null ? Config.Gateway.Name! : "", Config.Nat.PublicAddresses,
            Config.Tunnel.Ipv6 is { Routed: false } ? Config.Nat.PublicAddresses6 : [], Config.Tunnel.Ipv6 is { Routed: true } routed ? routed.Prefix : null);
        ConfigPeerChanges changes;
        try
        {
            changes = await store.ApplyConfigPeersAsync(ConfiguredPeers.From(Config), ConfiguredPeers.Pool(Config), cancellationToken)
                .ConfigureAwait(false);
        }
        catch (ArgumentException e)
        {
            throw new StoreException($"Store {StoreName}: the config's peers cannot be applied: {e.Message}", e);
        }
        var peers = await store.ListPeersAsync(cancellationToken).ConfigureAwait(false);
        var forwards = await store.ListForwardsAsync(null, cancellationToken).ConfigureAwait(false);
        var dedicated = await store.ListDedicatedAddressesAsync(cancellationToken).ConfigureAwait(false);
        var overrides = await store.GetPolicyAsync(cancellationToken).ConfigureAwait(false);
        if (scope.Gateway.Length > 0)
            overrides = (await store.GetGatewayPolicyAsync(scope.Gateway, cancellationToken).ConfigureAwait(false)).Over(overrides);

        var policy = Config.Forwarding;
        try
        {
            policy = GatewayOperations.Effective(overrides, Config.Forwarding);
        }
        catch (AdminRequestException e)
        {
            GatewayHostLog.StoredPolicyInvalid(_logger, e.Message);
        }
        _peers.Replace(peers);
        var rules = scope.Rules(forwards, scope.OwnDedicated(dedicated));
        var enabled = 0;
        foreach (var peer in peers)
        {
            if (peer.Enabled)
                enabled++;
        }
        GatewayHostLog.StoreLoaded(_logger, StoreName, changes.Added.Count, changes.Updated.Count,
            changes.DedicatedAddresses.Count, changes.Forwards.Count, peers.Count, enabled);
        return new StoreState(peers, rules, GatewayOperations.Assignments(dedicated, _peers, scope, Config.Tunnel.Ipv6), policy);
    }

    private string StoreName => _store switch
    {
        SqliteGatewayStore sqlite => sqlite.Path,
        Store.Postgres.PostgresGatewayStore postgres => postgres.Display,
        _ => "?",
    };

    private GatewayIdentity Identity(string publicKey, ushort listenPort)
    {
        return new GatewayIdentity
        {
            Interface = Config.Tunnel.Interface,
            PublicKey = publicKey,
            ListenPort = listenPort,
            TunnelAddress = Config.Tunnel.Address,
            TunnelPrefix = Config.Tunnel.Prefix,
            Ipv6 = Config.Tunnel.Ipv6,
            PublicAddresses = Config.Nat.PublicAddresses,
            PublicAddresses6 = Config.Tunnel.Ipv6 is { Routed: false } ? Config.Nat.PublicAddresses6 : [],
            Dns = Config.Tunnel.Dns,
            StartedUtc = _time.GetUtcNow(),
        };
    }

    /// <summary>Stops serving and removes what the gateway put in the kernel (mappings, table, interface). Idempotent.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        if (_service is not null)
            GatewayHostLog.Stopping(_logger);
        if (_admin is not null)
            await Step("admin API", () => _admin.DisposeAsync().AsTask()).ConfigureAwait(false);
        if (_reachability is not null)
            await Step("reachability listener", () => _reachability.DisposeAsync().AsTask()).ConfigureAwait(false);
        if (_fleet is not null)
            await Step("fleet membership", () => _fleet.DisposeAsync().AsTask()).ConfigureAwait(false);
        if (_portMapping is not null)
            await Step("port mapping server", () => _portMapping.DisposeAsync().AsTask()).ConfigureAwait(false);
        if (_portMapping6 is not null)
            await Step("IPv6 port mapping server", () => _portMapping6.DisposeAsync().AsTask()).ConfigureAwait(false);
        if (_memory is not null)
            await Step("peer memory", () => _memory.DisposeAsync().AsTask()).ConfigureAwait(false);
        if (_sessions is not null)
            await Step("session events", () => _sessions.DisposeAsync().AsTask()).ConfigureAwait(false);
        _sessionCounters?.Dispose();
        await Step("UAPI socket", () => { _uapi?.Dispose(); return Task.CompletedTask; }).ConfigureAwait(false);
        await Step("WireGuard device", () => { _device?.Dispose(); return Task.CompletedTask; }).ConfigureAwait(false);
        await Step("forwarding service", () => { _service?.Dispose(); return Task.CompletedTask; }).ConfigureAwait(false);
        if (_table is not null)
        {
            await Step("forwarding table", () =>
            {
                try
                {
                    _table.Uninstall();
                }
                finally
                {
                    _table.Dispose();
                }
                return Task.CompletedTask;
            }).ConfigureAwait(false);
        }
        if (_audit is not null)
        {
            // The table is gone: every record still open ends now (a crash leaves them to the next start instead).
            await Step("audit trail", async () =>
            {
                await _audit.DisposeAsync().ConfigureAwait(false);
                await ((IAuditStore)_store!).CloseOpenAuditAsync(_time.GetUtcNow()).ConfigureAwait(false);
            }).ConfigureAwait(false);
        }
        _operations?.Dispose();
        _inboundLimits?.Dispose();
        _readiness?.Dispose();
        if (_store is not null && _fleet is null)
            await Step("store", () => _store.DisposeAsync().AsTask()).ConfigureAwait(false);
    }

    private async Task Step(string name, Func<Task> step)
    {
        try
        {
            await step().ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            GatewayHostLog.ShutdownStepFailed(_logger, name, e);
        }
    }
}
