using System.Globalization;
using System.Net;
using Portcullis.Client.Status;
using Prometheus;

namespace Portcullis.Client.Metrics;

// `portcullis connect --metrics 127.0.0.1:PORT`: what `status --json` says, as Prometheus text at /metrics, for a
// local Prometheus or node exporter to scrape. Loopback only (the command line refuses anything else): it tells whoever
// reads it when this host is on the VPN and which port it is reachable on. Values are read at scrape time from the
// state the connection keeps anyway and from the device's counters.

/// <summary>The client's metrics and, when started with a listener, the loopback endpoint that serves them.</summary>
public sealed class ClientMetrics : IDisposable
{
    private readonly CollectorRegistry _registry = Prometheus.Metrics.NewCustomRegistry();
    private readonly IMetricServer? _server;

    public ClientMetrics(Func<ClientState> state, Func<IReadOnlyList<PeerStatus>> peers, IPEndPoint? listen = null)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(peers);
        var factory = Prometheus.Metrics.WithCustomRegistry(_registry);
        var up = factory.CreateGauge("portcullis_client_up", "1 while the tunnel is up (the client says so), else 0.", ["interface"]);
        var handshake = factory.CreateGauge("portcullis_client_latest_handshake_timestamp_seconds",
            "Unix time of the latest completed handshake with the gateway; 0 for none yet.", ["interface"]);
        var received = factory.CreateCounter("portcullis_client_received_bytes_total", "Bytes received through the tunnel (as WireGuard counts them).", ["interface"]);
        var sent = factory.CreateCounter("portcullis_client_sent_bytes_total", "Bytes sent through the tunnel.", ["interface"]);
        var port = factory.CreateGauge("portcullis_client_forwarded_port", "The public port the gateway forwards to this host; 0 for none.", ["interface"]);
        var lease = factory.CreateGauge("portcullis_client_lease_expiry_timestamp_seconds", "Unix time the current port lease ends; 0 for none.", ["interface"]);
        var reachable = factory.CreateGauge("portcullis_client_port_reachable",
            "1 when the gateway's check found the forwarded port reachable from the internet, 0 when not or not checked yet.", ["interface"]);
        _registry.AddBeforeCollectCallback(() =>
        {
            var now = state();
            var name = now.Interface;
            var list = peers();
            up.WithLabels(name).Set(now.Phase == "up" ? 1 : 0);
            var latest = list.Where(p => p.LastHandshake is not null).Select(p => p.LastHandshake!.Value).DefaultIfEmpty().Max();
            handshake.WithLabels(name).Set(latest == default ? 0 : latest.ToUnixTimeMilliseconds() / 1000.0);
            received.WithLabels(name).IncTo(list.Aggregate(0UL, (sum, p) => sum + p.RxBytes));
            sent.WithLabels(name).IncTo(list.Aggregate(0UL, (sum, p) => sum + p.TxBytes));
            port.WithLabels(name).Set(FirstPort(now.ForwardedPort));
            lease.WithLabels(name).Set(DateTimeOffset.TryParse(now.LeaseExpires, CultureInfo.InvariantCulture, DateTimeStyles.None, out var until)
                ? until.ToUnixTimeSeconds() : 0);
            reachable.WithLabels(name).Set(now.Reachability == "reachable" ? 1 : 0);
        });
        if (listen is not null)
        {
            if (!IPAddress.IsLoopback(listen.Address))
                throw new ArgumentException($"--metrics {listen}: only a loopback address may serve the client's metrics.", nameof(listen));
            _server = new MetricServer(listen.Address.ToString(), listen.Port, "metrics/", _registry).Start();
        }
    }

    /// <summary>One scrape in the Prometheus text format.</summary>
    public Task WriteAsync(Stream destination, CancellationToken cancellationToken) =>
        _registry.CollectAndExportAsTextAsync(destination, ExpositionFormat.PrometheusText, cancellationToken);

    // "41234", or "41234/tcp 41240/udp" when the gateway split a pair: the first is the one a single number can say.
    private static double FirstPort(string text)
    {
        var first = text.Split(' ', '/')[0];
        return ushort.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : 0;
    }

    public void Dispose() => _server?.Dispose();
}
