using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging;
using Portcullis.Client.Applications;
using Portcullis.Client.Exposure;
using Portcullis.Client.KillSwitch;
using Portcullis.Client.PortForwarding;
using Portcullis.PortMapping;

namespace Portcullis.Client.Connect;

/// <summary>
/// The forwarded port on this side: the port keeper, and what follows each lease change —
///   1. the state file (for `status`);
///   2. the kill switch's forwarded-port sets, replaced in one transaction when the internal ports change (a port
///      asked for with --forward PROTO:PORT is open from the start; one the gateway picks opens once granted);
///   3. the exposure warning for an internal port first learnt from the lease (with or without the kill switch);
///   4. for each new port, the reachability check (Reachability/PortReachability.cs) into the state file.
/// Applications hear of the port from the keeper itself (<see cref="PortKeeperOptions.Publishers"/>).
/// </summary>
public sealed partial class ClientConnection
{
    private IReadOnlyList<IPAddress> _tunnelAddresses = [];
    private IReadOnlyList<ForwardedPort> _forwardedPorts = [];
    private readonly Lock _leaseGate = new();

    private void CreatePublishers(IReadOnlyList<ApplicationEndpoint> applications)
    {
        foreach (var application in applications)
        {
            try
            {
                _publishers.Add(PortPublishers.Create(application));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new ClientException($"--{application.Kind.ToString().ToLowerInvariant()}-password-file: cannot read {application.PasswordFile}: {e.Message}", e);
            }
        }
    }

    private void StartPortKeeper(ConnectOptions options, ForwardSpec forward, IPAddress gateway, string name,
        IPortKeeperFactory factory, ILoggerFactory loggers)
    {
        var keeper = factory.Create(new PortKeeperOptions
        {
            Forward = forward,
            Gateway = gateway,
            TunnelInterface = name,
            PortFile = options.PortFile,
            OnPortChange = options.OnPortChange,
            Publishers = _publishers,
        }, loggers.CreateLogger("portcullis.portkeeper"));
        _portKeeper = keeper;
        keeper.LeaseChanged += _ => OnLeaseChanged(keeper, forward, gateway);
        keeper.Start();
    }

    private void OnLeaseChanged(IPortKeeper keeper, ForwardSpec forward, IPAddress gateway)
    {
        lock (_leaseGate)
        {
            if (keeper.Current is { } lease)
            {
                var ports = PortsText(keeper.Leases, lease);
                var newPort = ports != _state.ForwardedPort;
                UpdateState(_state with
                {
                    ForwardedPort = ports,
                    LeaseExpires = lease.Expires.ToString("O", CultureInfo.InvariantCulture),
                    Reachability = newPort ? string.Empty : _state.Reachability,
                });
                if (newPort)
                    _ = CheckReachabilityAsync(gateway, lease, ports);
            }
            var wanted = WantedPorts(keeper.Leases, forward);
            if (SamePorts(wanted, _forwardedPorts))
                return;
            foreach (var port in wanted)
            {
                // A port given on the command line was checked at start; one the gateway picked is checked now (the
                // application may only start listening once told, so this catches what already listens).
                if (forward.InternalPort is null && !_forwardedPorts.Contains(port))
                    WarnIfExposed(_log, port.Protocol, port.Port, _tunnelAddresses);
            }
            if (!_killSwitchInstalled)
            {
                _forwardedPorts = wanted;
                return;
            }
            try
            {
                KillSwitchTable.UpdateForwardedPorts(wanted);
                _forwardedPorts = wanted;
                _log.ForwardedPortsOpened(string.Join(", ", wanted.Select(p => $"{p.Port}/{p.Protocol.ToString().ToLowerInvariant()}")), Interface);
            }
            catch (Exception e)
            {
                // The previous ports hold (one transaction); the next lease change tries again.
                _log.ForwardedPortsFailed(e.Message);
            }
        }
    }

    // After each new port, in the background: the gateway's probe takes up to a few seconds and the lease gate must
    // not wait for it. A port that changed again meanwhile keeps the newer port's (pending) verdict.
    private async Task CheckReachabilityAsync(IPAddress gateway, PortLease lease, string ports)
    {
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(15) };
            var verdict = await Reachability.PortReachability.CheckAsync(http, gateway, lease,
                () => ProcNetParser.ReadSystem(), CancellationToken.None).ConfigureAwait(false);
            _log.Reachability(lease.ExternalPort, lease.Protocol.ToString().ToLowerInvariant(), verdict.Text);
            lock (_leaseGate)
            {
                if (_state.ForwardedPort == ports)
                    UpdateState(_state with { Reachability = verdict.Text });
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _log.Reachability(lease.ExternalPort, lease.Protocol.ToString().ToLowerInvariant(), $"not checked ({e.Message})");
        }
    }

    /// <summary>The port asked for on the command line, if any, and every internal port a lease points at now.</summary>
    // "30000" when every protocol has the same public port (the usual case, also for `both`); "30000/tcp 30417/udp"
    // when the gateway could not give UDP the TCP port, so `status` never hides the second one.
    internal static string PortsText(IReadOnlyList<PortLease> leases, PortLease current)
    {
        var same = true;
        foreach (var other in leases)
            same &= other.ExternalPort == current.ExternalPort;
        if (same)
            return current.ExternalPort.ToString(CultureInfo.InvariantCulture);
        return string.Join(' ', leases.Select(l =>
            string.Create(CultureInfo.InvariantCulture, $"{l.ExternalPort}/{l.Protocol.ToString().ToLowerInvariant()}")));
    }

    internal static List<ForwardedPort> WantedPorts(IReadOnlyList<PortLease> leases, ForwardSpec forward)
    {
        var ports = new List<ForwardedPort>();
        if (forward.InternalPort is ushort fixedPort)
            ports.Add(new ForwardedPort(forward.Protocol, fixedPort));
        foreach (var lease in leases)
        {
            var port = new ForwardedPort(lease.Protocol, lease.InternalPort);
            if (!Covered(ports, port))
                ports.Add(port);
        }
        return ports;
    }

    private static bool Covered(List<ForwardedPort> ports, ForwardedPort port) =>
        ports.Exists(p => p.Port == port.Port && (p.Protocol == port.Protocol || p.Protocol == ForwardProtocol.Both));

    private static bool SamePorts(List<ForwardedPort> a, IReadOnlyList<ForwardedPort> b) =>
        a.Count == b.Count && a.TrueForAll(b.Contains);

    private static void WarnIfExposed(ILogger log, ForwardProtocol protocol, ushort port, IReadOnlyList<IPAddress> tunnelAddresses)
    {
        foreach (var exposure in ExposureCheck.Find(ProcNetParser.ReadSystem(), protocol, port, tunnelAddresses))
            log.Exposed(exposure.ToString());
    }
}
