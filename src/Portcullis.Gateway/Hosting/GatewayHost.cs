using System.Net;
using System.Runtime.Versioning;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Portcullis.Gateway.Addressing;
using Portcullis.Gateway.Configuration;
using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Kernel;
using Portcullis.Linux.Links;
using Portcullis.Linux.Tun;
using Portcullis.Linux.Udp;
using Portcullis.PortMapping.Server;
using Portcullis.WireGuard.Device;
using Portcullis.WireGuard.Uapi;

namespace Portcullis.Gateway.Hosting;

// The gateway in one process, in the network namespace it runs in. Start, in order:
//  1. address book: every [[peer]] gets its tunnel address (remembered across restarts)
//  2. TUN + WireGuard device: private key, listen port, one peer per [[peer]] with allowed-ips = its /32
//  3. the TUN gets the gateway's address and goes up; IPv4 forwarding on (/proc/sys/net/ipv4/ip_forward)
//  4. the nftables table is installed, then the forwarding service starts: reconciliation removes every element
//     nobody owns before any session exists, so nothing points at an address a restart may have reassigned
//  5. session events (public key → peer id, tunnel address) flow to the service; then the device comes up,
//     the UAPI socket opens (`wg show` works) and the NAT-PMP/PCP server listens on the tunnel address, UDP 5351
// Stop (SIGTERM/SIGINT) undoes it in reverse and uninstalls the table: a stopped gateway leaves no mapping, no
// masquerade, no trace. A crash leaves the table; element timeouts bound it and the next start's reconciliation
// clears it.

/// <summary>A running gateway: <see cref="StartAsync"/>, then <see cref="DisposeAsync"/> to stop.</summary>
[SupportedOSPlatform("linux")]
public sealed class GatewayHost : IAsyncDisposable
{
    private const string IpForwardPath = "/proc/sys/net/ipv4/ip_forward";

    private readonly ILogger _logger;
    private readonly ILoggerFactory _loggers;
    private WireGuardDevice? _device;
    private UapiServer? _uapi;
    private NftForwardingTable? _table;
    private ForwardingService? _service;
    private SessionEvents? _sessions;
    private PortMappingServer? _portMapping;
    private int _disposed;

    private GatewayHost(GatewayConfig config, TunnelAddressBook addresses, ILoggerFactory loggers)
    {
        Config = config;
        Addresses = addresses;
        _loggers = loggers;
        _logger = loggers.CreateLogger("portcullis.gateway");
        PeerIds = PeerIdsFor(addresses);
    }

    public GatewayConfig Config { get; }

    public TunnelAddressBook Addresses { get; }

    /// <summary>Each peer's opaque id (the kernel elements' owner comment) by public key (base64): "p1", "p2", … in config order.</summary>
    public IReadOnlyDictionary<string, string> PeerIds { get; }

    public ForwardingService Forwarding => _service ?? throw new InvalidOperationException("The gateway is not started.");

    /// <summary>
    /// Starts the gateway for <paramref name="config"/>. Throws <see cref="GatewayConfigException"/> for a problem
    /// with the address state file, and whatever the OS says when an interface, socket or table cannot be made;
    /// everything already made is undone before it throws.
    /// </summary>
    public static async Task<GatewayHost> StartAsync(GatewayConfig config, ILoggerFactory loggers, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(loggers);
        var host = new GatewayHost(config, TunnelAddressBook.Open(config), loggers);
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
        var tun = LinuxTun.Create(tunnel.Interface);
        _device = new WireGuardDevice(tun, new LinuxBindFactory(), _loggers.CreateLogger("portcullis.device"),
            new DeviceOptions { SessionTimeout = tunnel.SessionTimeout });
        ConfigureDevice(_device);

        Link.AddAddress(tunnel.Interface, tunnel.Address, tunnel.Prefix.PrefixLength);
        Link.SetUp(tunnel.Interface);
        File.WriteAllText(IpForwardPath, "1\n");

        _table = new NftForwardingTable(_loggers.CreateLogger<NftForwardingTable>());
        _table.Install(new GatewayNetwork
        {
            TunnelInterface = tunnel.Interface,
            TunnelPrefix = tunnel.Prefix,
            GatewayTunnelAddress = tunnel.Address,
            PublicInterface = Config.Nat.PublicInterface,
            PublicAddresses = Config.Nat.PublicAddresses,
            AllowPeerToPeer = tunnel.AllowPeerToPeer,
        });
        _service = new ForwardingService(_table, Config.Nat.PublicAddresses, Config.Forwarding, TimeProvider.System,
            _loggers.CreateLogger<ForwardingService>());
        _service.Start();
        _sessions = new SessionEvents(_device, Addresses, PeerIds, _service, _logger);

        _device.Up();
        _uapi = UapiServer.Start(tunnel.Interface, _device, _loggers.CreateLogger("portcullis.uapi"));
        _portMapping = new PortMappingServer(_service,
            new PortMappingServerOptions { ListenAddress = tunnel.Address, AuditLog = Config.Forwarding.AuditLog },
            _loggers.CreateLogger<PortMappingServer>());
        await _portMapping.StartAsync(cancellationToken).ConfigureAwait(false);
        var portMapping = _portMapping;
        _sessions.SessionStartedHook = address => portMapping.Announce([address]);
        GatewayHostLog.Started(_logger, tunnel.Interface, tunnel.Address, tunnel.Prefix.PrefixLength, _device.ListenPort,
            Addresses.Peers.Count, Config.Nat.PublicInterface);
    }

    private void ConfigureDevice(WireGuardDevice device)
    {
        var privateKey = (byte[])Config.Tunnel.PrivateKey.Clone();
        try
        {
            device.Apply(new UapiSetRequest
            {
                PrivateKey = privateKey,
                ListenPort = Config.Tunnel.ListenPort,
                ReplacePeers = true,
                Peers = [.. Addresses.Peers.Select(peer => new UapiPeerChange
                {
                    PublicKey = peer.PublicKey,
                    ReplaceAllowedIps = true,
                    AddedAllowedIps = [new IPNetwork(peer.Address, 32)],
                })],
            });
        }
        finally
        {
            CryptographicOperations.ZeroMemory(privateKey);
        }
    }

    private static Dictionary<string, string> PeerIdsFor(TunnelAddressBook addresses)
    {
        var ids = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < addresses.Peers.Count; i++)
            ids[addresses.Peers[i].PublicKeyBase64] = $"p{i + 1}";
        return ids;
    }

    /// <summary>Stops serving and removes what the gateway put in the kernel (mappings, table, interface). Idempotent.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        if (_service is not null)
            GatewayHostLog.Stopping(_logger);
        if (_portMapping is not null)
            await Step("port mapping server", () => _portMapping.DisposeAsync().AsTask()).ConfigureAwait(false);
        if (_sessions is not null)
            await Step("session events", () => _sessions.DisposeAsync().AsTask()).ConfigureAwait(false);
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
