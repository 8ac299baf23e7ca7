using System.CommandLine;
using System.Net;
using Portcullis.Client.Applications;
using Portcullis.Client.Connect;
using Portcullis.Client.PortForwarding;
using Portcullis.PortMapping;

namespace Portcullis.Cli.Client;

/// <summary>
/// `portcullis connect --config FILE [--kill-switch] [--allow-lan] [--allow-dhcp] [--persistent] [--forward …]
/// [--allow-from PREFIX]… [--port-file PATH] [--port-file6 PATH] [--on-port-change CMD] [--qbittorrent URL [--qbittorrent-user NAME] [--qbittorrent-password-file PATH]]
/// [--transmission URL [--transmission-user NAME] [--transmission-password-file PATH]]`
/// (DESIGN.md section 6): runs the client in the foreground until SIGTERM/SIGINT.
/// </summary>
internal static class ConnectCommand
{
    public static Command Create()
    {
        var config = new Option<string>("--config", "-c") { Description = "wg-quick configuration file (mode 0600).", Required = true };
        var name = new Option<string?>("--interface", "-i") { Description = "Interface name (default: the file name without .conf)." };
        var killSwitch = new Option<bool>("--kill-switch") { Description = "Drop every packet outside the tunnel except the encrypted ones to the endpoint, before the tunnel comes up and after it goes." };
        var allowLan = new Option<bool>("--allow-lan") { Description = "With --kill-switch: keep the physical interfaces' own networks reachable." };
        var allowDhcp = new Option<bool>("--allow-dhcp") { Description = "With --kill-switch: let DHCP renew the physical lease." };
        var persistent = new Option<bool>("--persistent") { Description = "With --kill-switch: keep it after exit too; only `portcullis disconnect` removes it." };
        var forward = new Option<string?>("--forward") { Description = "Ask the gateway for a port: tcp|udp|both[:INTERNAL_PORT]." };
        var allowFrom = new Option<string[]>("--allow-from") { Description = "With --forward PROTOCOL:PORT: only this address or prefix may reach the port (PCP FILTER); repeatable." };
        var portFile = new Option<string?>("--port-file") { Description = "With --forward: write the forwarded port to this file (atomic replace)." };
        var portFile6 = new Option<string?>("--port-file6") { Description = "With --forward and IPv6 in the tunnel: write the IPv6 mapping as [ADDRESS]:PORT to this file (atomic replace)." };
        var onChange = new Option<string?>("--on-port-change") { Description = "With --forward: run this command when the port changes ($PORTCULLIS_PORT, {port})." };
        var gateway = new Option<string?>("--gateway") { Description = "With --forward: where port requests go (default: the first address of the Address prefix)." };
        var metrics = new Option<string?>("--metrics") { Description = "Serve Prometheus metrics at http://ADDRESS:PORT/metrics; a loopback address only (e.g. 127.0.0.1:9587)." };
        var qbittorrent = new ApplicationOptions("qbittorrent", "qBittorrent (its Web UI, e.g. http://127.0.0.1:8080)");
        var transmission = new ApplicationOptions("transmission", "Transmission (its RPC, e.g. http://127.0.0.1:9091/transmission/rpc)");
        var command = new Command("connect", "Connect to a WireGuard gateway: full or split tunnel, DNS, kill switch.")
        {
            config, name, killSwitch, allowLan, allowDhcp, persistent, forward, allowFrom, portFile, portFile6, onChange, gateway, metrics,
        };
        qbittorrent.AddTo(command);
        transmission.AddTo(command);
        command.SetAction(result =>
        {
            var errors = new List<string>();
            ForwardSpec? request = null;
            if (result.GetValue(forward) is { } text && !ForwardSpec.TryParse(text, out request, out var error))
                errors.Add($"--forward {error}");
            var filters = new List<RemoteFilter>();
            foreach (var prefix in result.GetValue(allowFrom) ?? [])
            {
                if (ForwardSpec.TryParseAllowFrom(prefix, out var filter, out var bad))
                    filters.Add(filter);
                else
                    errors.Add($"--allow-from {bad}");
            }
            if (filters.Count > 0 && request is not null)
            {
                // Filters travel in PCP only; without an internal port the request goes over NAT-PMP (DESIGN §6).
                if (request.InternalPort is null)
                    errors.Add("--allow-from needs --forward with an internal port (tcp|udp|both:PORT)");
                request = request with { AllowFrom = filters };
            }
            IPAddress? gatewayAddress = null;
            if (result.GetValue(gateway) is { } g && !IPAddress.TryParse(g, out gatewayAddress))
                errors.Add($"--gateway '{g}' is not an IP address");
            var ks = result.GetValue(killSwitch);
            if (!ks && (result.GetValue(allowLan) || result.GetValue(allowDhcp) || result.GetValue(persistent)))
                errors.Add("--allow-lan, --allow-dhcp and --persistent only make sense with --kill-switch");
            if (request is null && (result.GetValue(portFile) is not null || result.GetValue(portFile6) is not null || result.GetValue(onChange) is not null || gatewayAddress is not null
                    || filters.Count > 0))
                errors.Add("--port-file, --port-file6, --on-port-change, --gateway and --allow-from only make sense with --forward");
            foreach (var (option, value) in (ReadOnlySpan<(string, string?)>)[("--port-file", result.GetValue(portFile)), ("--port-file6", result.GetValue(portFile6))])
            {
                if (value is { } file && (file.Length == 0 || Directory.Exists(file)))
                    errors.Add($"{option} '{file}' must name a file");
            }
            IPEndPoint? metricsListen = null;
            if (result.GetValue(metrics) is { } m && (!IPEndPoint.TryParse(m, out metricsListen) || metricsListen.Port == 0 || !IPAddress.IsLoopback(metricsListen.Address)))
                errors.Add($"--metrics '{m}' must be a loopback ADDRESS:PORT, e.g. 127.0.0.1:9587");
            var applications = new List<ApplicationEndpoint>();
            qbittorrent.Read(result, ApplicationKind.QBittorrent, applications, errors);
            transmission.Read(result, ApplicationKind.Transmission, applications, errors);
            if (request is null && applications.Count > 0)
                errors.Add("--qbittorrent and --transmission only make sense with --forward");
            if (errors.Count > 0)
            {
                foreach (var e in errors)
                    Console.Error.WriteLine($"portcullis connect: {e}");
                return 2;
            }
            return ConnectRunner.Run(new ConnectOptions
            {
                ConfigPath = result.GetValue(config)!,
                InterfaceName = result.GetValue(name),
                KillSwitch = ks,
                AllowLan = result.GetValue(allowLan),
                AllowDhcp = result.GetValue(allowDhcp),
                Persistent = result.GetValue(persistent),
                Forward = request,
                PortFile = result.GetValue(portFile),
                PortFile6 = result.GetValue(portFile6),
                OnPortChange = result.GetValue(onChange),
                Gateway = gatewayAddress,
                Applications = applications,
                MetricsListen = metricsListen,
            });
        });
        return command;
    }
}
