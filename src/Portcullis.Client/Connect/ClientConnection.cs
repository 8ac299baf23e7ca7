using System.Net;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Portcullis.Client.Applications;
using Portcullis.Client.Config;
using Portcullis.Client.Dns;
using Portcullis.Client.Exposure;
using Portcullis.Client.KillSwitch;
using Portcullis.Client.PortForwarding;
using Portcullis.Client.Routing;
using Portcullis.Client.Status;
using Portcullis.Linux.Links;
using Portcullis.Linux.Tun;
using Portcullis.Linux.Udp;
using Portcullis.WireGuard.Device;
using Portcullis.WireGuard.Uapi;

namespace Portcullis.Client.Connect;

/// <summary>
/// One connected client, from <see cref="Start"/> to <see cref="Dispose"/>:
/// 1. parse the wg-quick file, resolve endpoints, compute the route plan (nothing touched yet);
/// 2. write the state file (so `disconnect` can clean up after a SIGKILL from here on);
/// 3. kill switch — before the tunnel exists, so no packet leaves outside it even before the first handshake;
/// 4. TUN + device + fwmark + peers + UAPI socket; 5. MTU, addresses, routes, rules; 6. DNS; 7. port keeper, whose
/// lease changes open the port in the kill switch and go to the application updaters.
/// Dispose undoes it in reverse; the kill switch stays when asked to be persistent. A failing start undoes what
/// it did and throws <see cref="ClientException"/>.
/// </summary>
public sealed partial class ClientConnection : IDisposable
{
    private readonly ILogger _log;
    private readonly ClientStateStore _store;
    private readonly bool _persistent;
    private ClientState _state;
    private bool _killSwitchInstalled;
    private WireGuardDevice? _device;
    private UapiServer? _uapi;
    private AppliedRoutes? _routes;
    private HostDns? _dns;
    private string _resolvConfPath = ResolverConfiguration.DefaultPath;
    private IPortKeeper? _portKeeper;
    private IPortKeeper? _portKeeper6;
    private Metrics.ClientMetrics? _metrics;
    private List<IPortPublisher> _publishers = [];
    private int _disposed;

    private ClientConnection(ILogger log, ClientStateStore store, ClientState state, bool persistent)
    {
        _log = log;
        _store = store;
        _state = state;
        _persistent = persistent;
    }

    public string Interface => _state.Interface;

    public RoutePlan Plan { get; private set; } = null!;

    /// <summary>False once the interface is gone (deleted from outside, e.g. `ip link del`).</summary>
    public bool InterfaceExists => Link.Exists(Interface);

    public static ClientConnection Start(ConnectOptions options, ILoggerFactory loggers, IPortKeeperFactory? portKeepers = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggers);
        var log = loggers.CreateLogger("portcullis.client");
        using var config = LoadConfig(options.ConfigPath, log);
        var name = InterfaceNameFor(options);
        var endpoints = ResolveEndpoints(config);
        var plan = RoutePlanner.Plan(config, name);
        var tunnelAddresses = config.Interface.Addresses.Select(a => a.Address).ToList();

        IPAddress? gateway = null;
        if (options.Forward is { } forward)
        {
            if (forward.InternalPort is ushort port)
                WarnIfExposed(log, forward.Protocol, port, tunnelAddresses);
            if (portKeepers is null)
                throw new ClientException("--forward needs a port keeper, and none was given to the connection");
            gateway = options.Gateway ?? RoutePlanner.DefaultGateway(config)
                ?? throw new ClientException("--forward needs --gateway: the Address has no IPv4 prefix to take the gateway from");
        }
        else if (options.Applications.Count > 0)
        {
            throw new ClientException("--qbittorrent and --transmission need --forward: they are told the forwarded port");
        }

        var store = new ClientStateStore(options.StateDirectory);
        var previous = store.Read(name);
        if (previous is not null && IsAlive(previous.Pid))
            throw new ClientException($"{name} is already connected (pid {previous.Pid}); run `portcullis disconnect` first");
        // A killed client's saved resolv.conf is the real original: kept in the new state, so a start that fails before
        // setting DNS puts it back on the way out (as `disconnect` would have), and a successful one keeps it as the
        // backup.
        var leftBackup = previous is { DnsBackup.Length: > 0 } && File.Exists(previous.DnsBackup) ? previous.DnsBackup : string.Empty;
        var state = new ClientState
        {
            Interface = name,
            Pid = Environment.ProcessId,
            ConfigPath = Path.GetFullPath(options.ConfigPath),
            Started = DateTimeOffset.UtcNow,
            Endpoints = string.Join(",", endpoints),
            KillSwitch = options.KillSwitch,
            Persistent = options.Persistent,
            Table = config.RoutingTable,
            FwMark = plan.FwMark,
            FullTunnel4 = plan.FullTunnel4,
            FullTunnel6 = plan.FullTunnel6,
            Forward = options.Forward?.ToString() ?? string.Empty,
            DnsBackup = leftBackup,
        };
        var connection = new ClientConnection(log, store, state, options.Persistent)
        {
            Plan = plan,
            _tunnelAddresses = tunnelAddresses,
            _resolvConfPath = options.ResolvConfPath,
        };
        try
        {
            // Password files are read first: a wrong path fails the start before anything is touched.
            connection.CreatePublishers(options.Applications);
            store.Write(state);
            if (options.KillSwitch)
                connection.InstallKillSwitch(options, name, endpoints, plan.FwMark, gateway,
                    options.Forward is not null && gateway is not null ? RoutePlanner.Ipv6Gateway(config, gateway) : null);
            connection.StartTunnel(config, name, endpoints, plan, loggers);
            if (config.Interface.DnsServers.Count > 0)
                connection.SetDns(options, name, config);
            if (options.Forward is { } wanted && portKeepers is not null && gateway is not null)
            {
                connection.StartPortKeeper(options, wanted, gateway, name, portKeepers, loggers);
                if (RoutePlanner.Ipv6Gateway(config, gateway) is { } gateway6)
                    connection.StartPortKeeper6(options, wanted, gateway6, name, portKeepers, loggers);
            }
            connection.UpdateState(connection._state with { Phase = "up" });
            if (options.MetricsListen is { } listen)
                connection._metrics = new Metrics.ClientMetrics(() => connection._state, connection.PeerStatuses, listen);
            return connection;
        }
        catch (Exception e) when (e is not ClientException)
        {
            connection.Dispose();
            throw new ClientException($"cannot connect {name}: {e.Message}", e);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private static WgQuickConfig LoadConfig(string path, ILogger log)
    {
        try
        {
            var config = WgQuickConfigParser.Load(path, out var warnings);
            foreach (var warning in warnings)
                log.ConfigWarning(warning);
            if (config.Peers.Count == 0)
            {
                config.Dispose();
                throw new ClientException($"{path}: no [Peer]: nothing to connect to");
            }
            return config;
        }
        catch (WgQuickConfigException e)
        {
            throw new ClientException(e.Message, e);
        }
    }

    private static string InterfaceNameFor(ConnectOptions options)
    {
        var name = options.InterfaceName ?? Path.GetFileNameWithoutExtension(options.ConfigPath);
        try
        {
            KillSwitchRuleset.ValidateInterfaceName(name);
        }
        catch (ArgumentException)
        {
            throw new ClientException($"'{name}' cannot name an interface (1-15 of a-z A-Z 0-9 _ = + . -); pass --interface NAME");
        }
        return name;
    }

    /// <summary>Host names are resolved once, before the kill switch closes DNS outside the tunnel.</summary>
    private static List<IPEndPoint> ResolveEndpoints(WgQuickConfig config)
    {
        var endpoints = new List<IPEndPoint>();
        foreach (var peer in config.Peers)
        {
            if (peer.Endpoint is not { } endpoint)
                throw new ClientException($"{config.Path}: every [Peer] needs an Endpoint for connect (the client dials the gateway)");
            if (!IPAddress.TryParse(endpoint.Host, out var address))
            {
                try
                {
                    address = System.Net.Dns.GetHostAddresses(endpoint.Host).OrderBy(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 0 : 1).First();
                }
                catch (Exception e) when (e is System.Net.Sockets.SocketException or InvalidOperationException)
                {
                    throw new ClientException($"cannot resolve Endpoint {endpoint}: {e.Message}", e);
                }
            }
            endpoints.Add(new IPEndPoint(address, endpoint.Port));
        }
        return endpoints;
    }

    private void InstallKillSwitch(ConnectOptions options, string name, List<IPEndPoint> endpoints, uint fwMark, IPAddress? gateway, IPAddress? gateway6)
    {
        _forwardedPorts = options.Forward is { InternalPort: ushort port } f ? [new ForwardedPort(f.Protocol, port)] : [];
        var spec = new KillSwitchSpec
        {
            TunnelInterface = name,
            Endpoints = endpoints,
            FwMark = fwMark,
            LanPrefixes = options.AllowLan ? LanPrefixes.Discover(name) : [],
            AllowDhcp = options.AllowDhcp,
            ForwardedPorts = _forwardedPorts,
            AnnounceSource = gateway,
            AnnounceSource6 = gateway6,
        };
        KillSwitchTable.Install(spec);
        _killSwitchInstalled = true;
        _log.KillSwitchInstalled(string.Join(", ", endpoints), name);
    }

    private void StartTunnel(WgQuickConfig config, string name, List<IPEndPoint> endpoints, RoutePlan plan, ILoggerFactory loggers)
    {
        var tun = LinuxTun.Create(name, plan.Mtu);
        _device = new WireGuardDevice(tun, new LinuxBindFactory(), loggers.CreateLogger("portcullis.device"));
        _device.SessionEstablished += e => _log.SessionUp(e.Endpoint?.ToString() ?? "peer");
        _device.Up();
        var request = DeviceConfiguration.Request(config, endpoints, plan.FwMark);
        try
        {
            _device.Apply(request);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(request.PrivateKey);
            foreach (var peer in request.Peers)
                CryptographicOperations.ZeroMemory(peer.PresharedKey);
        }
        _uapi = UapiServer.Start(name, _device, loggers.CreateLogger("portcullis.uapi"));
        _routes = AppliedRoutes.Apply(plan);
        _log.TunnelUp(name, string.Join(", ", plan.Addresses), plan.Routes.Count == 0 ? "no routes" : string.Join(", ", plan.Routes));
    }

    private void UpdateState(ClientState state)
    {
        _state = state;
        _store.Write(state);
    }

    private static bool IsAlive(int pid) => Disconnector.IsAlive(pid);

    // The device's peers as `status` reads them over UAPI, without the round trip (for --metrics).
    private IReadOnlyList<PeerStatus> PeerStatuses() => _device is not { } device ? [] :
        [.. device.Peers.Select(p => new PeerStatus(Convert.ToHexString(p.PublicKey.Span), p.Endpoint?.ToString(), p.LastHandshake, p.RxBytes, p.TxBytes))];

    /// <summary>
    /// Keep the kill switch on this exit even without --persistent: for exits nobody asked for (the interface was
    /// deleted under us), where failing closed is right; `portcullis disconnect` opens the host again.
    /// </summary>
    public bool FailClosedOnExit { get; set; }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        Step("metrics listener", () => _metrics?.Dispose());
        Step("port keeper", () => _portKeeper?.DisposeAsync().AsTask().GetAwaiter().GetResult());
        Step("IPv6 port keeper", () => _portKeeper6?.DisposeAsync().AsTask().GetAwaiter().GetResult());
        foreach (var publisher in _publishers)
            Step(publisher.Name, publisher.Dispose);
        Step("DNS restore", RestoreDns);
        Step("routes and rules", () => _routes?.Dispose());
        Step("UAPI socket", () => _uapi?.Dispose());
        Step("device", () => _device?.Dispose());
        var keep = _killSwitchInstalled && (_persistent || FailClosedOnExit);
        if (_killSwitchInstalled && !keep)
            Step("kill switch", () => KillSwitchTable.Remove());
        Step("state file", () => _store.Delete(Interface));
        _log.TunnelDown(Interface, !_killSwitchInstalled ? "no kill switch" : keep ? "kill switch kept (`portcullis disconnect` removes it)" : "kill switch removed");
    }

    private void Step(string name, Action action)
    {
        try
        {
            action();
        }
        catch (Exception e)
        {
            _log.CleanupFailed(name, e.Message);
        }
    }
}
