using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Kernel;
using Portcullis.PortMapping.Server;

namespace Portcullis.Benchmarks.Mapping;

/// <summary>
/// Open loop: K clients (tunnel addresses 10.99.2.1…K) send NAT-PMP changes at a fixed total offered rate, whether or
/// not earlier answers came back, cycling create → refresh → delete of one internal port each. A request's latency runs
/// from the moment the schedule said to send it (so a late send counts against us: no coordinated omission) to its
/// answer, which the server sends only once the change is in the kernel. Reports achieved changes/s and
/// p50/p99/p99.9 per kind at each count of mappings already present, after a warm-up of the same load that is not
/// counted (a gateway runs for days: its first second, with the JIT still at work, is not its steady state). Runs in
/// the namespace bench/mapping-latency prepares.
/// Usage: mapping-open-loop [present,...] [rate] [seconds] [clients] [workers (server's ConcurrentRequests)] [warm-up seconds]
/// </summary>
internal static class MappingOpenLoop
{
    private static readonly IPAddress Gateway = IPAddress.Parse("10.99.0.1");
    private static readonly IPAddress Public = IPAddress.Parse("198.51.100.10");
    private static readonly TimeSpan Drain = TimeSpan.FromSeconds(5);

    public static int Run(string[] args)
    {
        var present = args.Length > 0 ? args[0].Split(',').Select(int.Parse).ToArray() : [0, 10_000, 100_000];
        var rate = args.Length > 1 ? int.Parse(args[1]) : 10_000;
        var seconds = args.Length > 2 ? double.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 3;
        var clients = args.Length > 3 ? int.Parse(args[3]) : 64;
        var workers = args.Length > 4 && args[4].Length > 0 ? int.Parse(args[4]) : new PortMappingServerOptions { ListenAddress = Gateway }.ConcurrentRequests;
        var warmUp = args.Length > 5 ? double.Parse(args[5], System.Globalization.CultureInfo.InvariantCulture) : 2;
        Thread.CurrentThread.Name = "ol-send";
        Console.WriteLine($"open loop: {clients} clients, {workers} server workers, offered {rate} changes/s for {seconds} s after {warmUp} s of warm-up; latencies in µs from the scheduled send");
        Console.WriteLine($"{"present",8} {"offered",8} {"achieved",9} {"lost",6} {"failed",6} {"batch",6} "
            + $"{"cr p50",7} {"cr p99",7} {"cr p999",7} {"rf p50",7} {"rf p99",7} {"rf p999",7} {"de p50",7} {"de p99",7} {"de p999",7}");
        foreach (var n in present)
        {
            var r = Measure(n, rate, seconds, clients, workers, warmUp);
            Console.WriteLine($"{n,8} {rate,8} {r.Achieved,9:F0} {r.Lost,6} {r.Failed,6} {r.MeanBatch,6:F1} "
                + string.Join(' ', r.Percentiles.Select(p => $"{p,7:F0}")));
        }
        return 0;
    }

    private sealed record Result(double Achieved, int Lost, int Failed, double MeanBatch, double[] Percentiles);

    private static Result Measure(int present, int rate, double seconds, int clientCount, int workers, double warmUp)
    {
        using var table = new TimedTable(new NftForwardingTable());
        table.Install(MappingStack.Network(Gateway, Public));
        using var service = new ForwardingService(table, [Public], MappingStack.Policy(), TimeProvider.System, NullLogger<ForwardingService>.Instance);
        service.Start();
        MappingStack.Prepopulate(service, present);
        // A gateway gathers its mappings over hours; the fill makes them all at once, and their promotion brings a
        // gen2 collection into the measured seconds. One full collection now, outside them and said on its own line,
        // so the window shows the steady state (a longer run shows how often gen2 comes back).
        if (present > 0)
        {
            var collect = Stopwatch.StartNew();
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            Console.Error.WriteLine($"  present {present}: after the fill, one full collection outside the measured seconds: {collect.Elapsed.TotalMilliseconds:F1} ms");
        }
        var clientAddresses = Enumerable.Range(1, clientCount).Select(i => IPAddress.Parse($"10.99.2.{i}")).ToArray();
        for (var i = 0; i < clientCount; i++)
            service.PeerSessionStarted($"c{i}", clientAddresses[i]);

        var staged = new StagedAuthority(service, clientCount);
        var server = new PortMappingServer(staged, new PortMappingServerOptions { ListenAddress = Gateway, ConcurrentRequests = workers });
        server.StartAsync().GetAwaiter().GetResult();
        var total = (int)(rate * seconds);
        var load = new OpenLoopClients(clientAddresses, new IPEndPoint(Gateway, 5351), staged, total);
        try
        {
            // The warm-up: the same load, not counted; then the measured run on a fresh count.
            var warm = (int)(rate * warmUp);
            load.Send(rate, warm, Stopwatch.GetTimestamp());
            WaitForAnswers(load, warm);
            load.Reset(total);
            var (batchesBefore, requestsBefore) = service.BatchTotals;
            table.Reset();
            var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var probe = RuntimeProbe.Start();
            var policyBytes = staged.PolicyBytes;
            using var gcPauses = new GcPauses();
            gcPauses.Begin();
            var start = Stopwatch.GetTimestamp();
            load.Send(rate, total, start);
            WaitForAnswers(load, total);
            var wall = Stopwatch.GetElapsedTime(start).TotalSeconds;
            var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds;
            var (answered, failed, lastAnswer) = (load.Answered, load.Failed, load.LastAnswer);
            var runtime = probe.Report(answered).ToList();
            runtime.Add($"GC pauses (suspend + collect = pause): {gcPauses.End()}");
            var pauses = gcPauses.Intervals;
            if (GcPauses.Sampling)
                runtime.Add($"allocated most (share of allocation samples): {gcPauses.TopAllocations(12)}");
            runtime.Add($"of which inside ForwardingService.Map (decision, group commit, table update): {(staged.PolicyBytes - policyBytes) / Math.Max(1, answered)} bytes per answered request");
            var samples = load.Reset(0);
            runtime.Add(TailAccount.Of(samples.Slow, pauses, answered));
            var (batches, requests) = service.BatchTotals;
            var elapsed = (lastAnswer - start) / (double)Stopwatch.Frequency;
            // Server and clients together, over the run and its drain: what the load costs the 2 cores.
            Console.Error.WriteLine($"  present {present}: this process used {cpu / wall:F2} cores ({cpu * 1e6 / Math.Max(1, answered):F0} µs of CPU per answered request, clients included)");
            foreach (var line in runtime)
                Console.Error.WriteLine($"  present {present}: {line}");
            foreach (var list in samples.ByKind.Concat(samples.Stages).Append(samples.FromSend).Append(samples.Lateness))
                list.Sort();
            Console.Error.WriteLine($"  present {present}: stages µs p50 / p99 / p99.9 — send → policy call {Stage(samples.Stages[0])}; "
                + $"call (commit + kernel) {Stage(samples.Stages[1])}; return → answer received {Stage(samples.Stages[2])}");
            Console.Error.WriteLine($"  present {present}: µs from the actual send p50 / p99 / p99.9 {Stage(samples.FromSend)}; sender late p50 / p99 / p99.9 {Stage(samples.Lateness)}");
            Console.Error.WriteLine($"  present {present}: {table.Summary()}");
            var percentiles = samples.ByKind.SelectMany(list => new[] { Percentile(list, 0.50), Percentile(list, 0.99), Percentile(list, 0.999) });
            return new Result(answered / elapsed, total - answered - failed, failed,
                (requests - requestsBefore) / (double)Math.Max(1, batches - batchesBefore), [.. percentiles]);
        }
        finally
        {
            load.Dispose();
            server.DisposeAsync().AsTask().GetAwaiter().GetResult();
            table.Uninstall();
        }
    }

    private static void WaitForAnswers(OpenLoopClients load, int total)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(Drain.TotalSeconds * Stopwatch.Frequency);
        while (load.Answered + load.Failed < total && Stopwatch.GetTimestamp() < deadline)
            Thread.Sleep(10);
    }

    private static string Stage(List<double> sorted) =>
        $"{Percentile(sorted, 0.5):F0} / {Percentile(sorted, 0.99):F0} / {Percentile(sorted, 0.999):F0}";

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)(p * sorted.Count))];
}
