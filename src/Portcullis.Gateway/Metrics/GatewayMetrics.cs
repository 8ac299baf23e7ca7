using Prometheus;

namespace Portcullis.Gateway.Metrics;

// The gateway's /metrics (DESIGN §6), on prometheus-net with a registry of its own (no process-wide state, so tests
// may run several). Two kinds of family:
//  1. observed as things happen: kernel transactions and store calls (their decorators time them), reachability
//     checks;
//  2. read at scrape time from counters the parts keep anyway (GatewayMetricsSnapshot.cs): the device's atomics,
//     the port-mapping server's answers, the forwarding service's state. The packet path never touches a metric.
// With a gateway name (a fleet) every series carries gateway="NAME", as a static label of the registry. Peers appear
// in labels only when the operator opts in ([admin] metrics_per_peer = true): by default nothing here names a peer.

/// <summary>The gateway's Prometheus metrics; <see cref="WriteAsync"/> writes a scrape.</summary>
public sealed partial class GatewayMetrics
{
    private static readonly double[] KernelBuckets = Histogram.ExponentialBuckets(0.0001, 2.5, 12);
    private static readonly double[] StoreBuckets = Histogram.ExponentialBuckets(0.0002, 2.5, 13);

    private readonly CollectorRegistry _registry;
    private readonly Histogram _kernelDuration;
    private readonly Counter _kernelFailures;
    private readonly Histogram _storeDuration;
    private readonly Counter _storeErrors;
    private readonly Counter _reachabilityChecks;

    public GatewayMetrics(GatewayMetricsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        _registry = Prometheus.Metrics.NewCustomRegistry();
        if (options.GatewayName is { } name)
            _registry.SetStaticLabels(new Dictionary<string, string> { ["gateway"] = name });
        var factory = Prometheus.Metrics.WithCustomRegistry(_registry);
        _kernelDuration = factory.CreateHistogram("portcullis_kernel_transaction_duration_seconds",
            "Time one nftables transaction of the forwarding table took, by operation.",
            new HistogramConfiguration { LabelNames = ["operation"], Buckets = KernelBuckets });
        _kernelFailures = factory.CreateCounter("portcullis_kernel_transaction_failures_total",
            "nftables transactions the kernel refused, by operation (the previous state stayed in force).", ["operation"]);
        _storeDuration = factory.CreateHistogram("portcullis_store_operation_duration_seconds",
            "Time one store call took, by operation.",
            new HistogramConfiguration { LabelNames = ["operation"], Buckets = StoreBuckets });
        _storeErrors = factory.CreateCounter("portcullis_store_errors_total",
            "Store calls that failed (unreachable, locked, damaged), by operation. Conflicts (409) are not errors.", ["operation"]);
        _reachabilityChecks = factory.CreateCounter("portcullis_reachability_checks_total",
            "Mapping reachability checks the gateway ran, by protocol and result.", ["protocol", "result"]);
        Scraped = new ScrapedFamilies(factory, options.PerPeerTraffic);
    }

    public GatewayMetricsOptions Options { get; }

    /// <summary>Content type of <see cref="WriteAsync"/>'s output (the Prometheus text format, 0.0.4).</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private ScrapedFamilies Scraped { get; }

    /// <summary>
    /// Where the scrape-time families read from; set once by the host after its parts exist. Until then only the
    /// observed families appear.
    /// </summary>
    internal void Attach(GatewayMetricSources sources)
    {
        ArgumentNullException.ThrowIfNull(sources);
        _registry.AddBeforeCollectCallback(() => Scraped.Update(sources));
    }

    /// <summary>Writes one scrape in the Prometheus text format.</summary>
    public Task WriteAsync(Stream destination, CancellationToken cancellationToken) =>
        _registry.CollectAndExportAsTextAsync(destination, ExpositionFormat.PrometheusText, cancellationToken);

    internal void ObserveKernel(string operation, TimeSpan elapsed, bool failed)
    {
        _kernelDuration.WithLabels(operation).Observe(elapsed.TotalSeconds);
        if (failed)
            _kernelFailures.WithLabels(operation).Inc();
    }

    internal void ObserveStore(string operation, TimeSpan elapsed, bool failed)
    {
        _storeDuration.WithLabels(operation).Observe(elapsed.TotalSeconds);
        if (failed)
            _storeErrors.WithLabels(operation).Inc();
    }

    internal void CountReachability(string protocol, string result) => _reachabilityChecks.WithLabels(protocol, result).Inc();
}

/// <summary>What the metrics show beyond the defaults.</summary>
public sealed record GatewayMetricsOptions
{
    /// <summary>
    /// The gateway's name in a fleet: a <c>gateway</c> label on every series. Null (one gateway): no such label.
    /// Filled from the config by <see cref="GatewayMetricsOptions.From"/>, the one place that knows where it lives.
    /// </summary>
    public string? GatewayName { get; init; }

    /// <summary>
    /// Per-peer traffic series (<c>peer</c> label = the peer's name). Off by default: a series per peer tells whoever
    /// reads the metrics who is online and how much they move, which the gateway otherwise keeps to itself.
    /// </summary>
    public bool PerPeerTraffic { get; init; }

    public static GatewayMetricsOptions From(Configuration.GatewayConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return new GatewayMetricsOptions
        {
            GatewayName = config.Store.Url is not null ? config.Gateway.Name : null,
            PerPeerTraffic = config.Admin.MetricsPerPeer,
        };
    }
}
