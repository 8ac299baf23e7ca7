using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Kernel;
using Portcullis.PortMapping;
using Portcullis.PortMapping.Server;

namespace Portcullis.Benchmarks.Mapping;

/// <summary>
/// Mapping requests per second and request → live-in-kernel latency (p50/p99) with 0, 10 000 and 100 000 mappings
/// already present, through the real stack: NAT-PMP over UDP → ForwardingService → NftForwardingTable (libnftables).
/// Runs inside a network namespace prepared by bench/mapping-latency (pc0 = 10.99.0.1/16 with the clients' addresses,
/// eth0 = 198.51.100.10/24). Usage: mapping-latency [present,present,...] [requests]
/// </summary>
internal static class MappingLatency
{
    private static readonly IPAddress Gateway = IPAddress.Parse("10.99.0.1");
    private static readonly IPAddress Prober = IPAddress.Parse("10.99.0.2");
    private static readonly IPAddress Public = IPAddress.Parse("198.51.100.10");

    public static int Run(string[] args)
    {
        var present = args.Length > 0 ? args[0].Split(',').Select(int.Parse).ToArray() : [0, 10_000, 100_000];
        var requests = args.Length > 1 ? int.Parse(args[1]) : 2000;
        Console.WriteLine($"{"present",10} {"req/s",10} {"p50 µs",10} {"p99 µs",10} {"del p50",10} {"del p99",10} {"failed",8}");
        foreach (var n in present)
        {
            var r = Measure(n, requests);
            Console.WriteLine($"{n,10} {r.PerSecond,10:F0} {r.P50,10:F0} {r.P99,10:F0} {r.DeleteP50,10:F0} {r.DeleteP99,10:F0} {r.Failed,8}");
        }
        return 0;
    }

    private readonly record struct Result(double PerSecond, double P50, double P99, double DeleteP50, double DeleteP99, int Failed);

    private static Result Measure(int present, int requests)
    {
        using var table = new NftForwardingTable();
        table.Install(MappingStack.Network(Gateway, Public));
        var policy = MappingStack.Policy();
        using var service = new ForwardingService(table, [Public], policy, TimeProvider.System, NullLogger<ForwardingService>.Instance);
        service.Start();
        MappingStack.Prepopulate(service, present);
        service.PeerSessionStarted("prober", Prober);

        var server = new PortMappingServer(service, new PortMappingServerOptions { ListenAddress = Gateway });
        server.StartAsync().GetAwaiter().GetResult();
        try
        {
            using var probe = new NatPmpProbe(Prober, new IPEndPoint(Gateway, 5351));
            var latencies = new List<double>(requests);
            var deletes = new List<double>(requests);
            var failed = 0;
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < requests; i++)
            {
                // Map then delete, so the probe never holds more than one mapping and the present count stays put.
                var port = (ushort)(10_000 + i % 50_000);
                if (probe.Map(port, 3600) is { } created)
                    latencies.Add(created.TotalMicroseconds);
                else
                    failed++;
                if (probe.Map(port, 0) is { } deleted)
                    deletes.Add(deleted.TotalMicroseconds);
                else
                    failed++;
            }
            var elapsed = clock.Elapsed;
            latencies.Sort();
            deletes.Sort();
            // Each iteration is two requests (map + delete), both programmed into the kernel.
            return new Result(2 * requests / elapsed.TotalSeconds, Percentile(latencies, 0.50), Percentile(latencies, 0.99),
                Percentile(deletes, 0.50), Percentile(deletes, 0.99), failed);
        }
        finally
        {
            server.DisposeAsync().AsTask().GetAwaiter().GetResult();
            table.Uninstall();
        }
    }

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)(p * sorted.Count))];
}
