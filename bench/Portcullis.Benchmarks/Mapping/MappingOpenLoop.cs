using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Kernel;
using Portcullis.PortMapping;
using Portcullis.PortMapping.Server;

namespace Portcullis.Benchmarks.Mapping;

/// <summary>
/// Open loop: K clients (tunnel addresses 10.99.2.1…K) send NAT-PMP changes at a fixed total offered rate, whether or
/// not earlier answers came back, cycling create → refresh → delete of one internal port each. A request's latency runs
/// from the moment the schedule said to send it (so a late send counts against us: no coordinated omission) to its
/// answer, which the server sends only once the change is in the kernel. Reports achieved changes/s and
/// p50/p99/p99.9 per kind at each count of mappings already present. Runs in the namespace bench/mapping-latency
/// prepares. Usage: mapping-open-loop [present,...] [rate] [seconds] [clients] [workers (server's ConcurrentRequests)]
/// </summary>
internal static class MappingOpenLoop
{
    private static readonly IPAddress Gateway = IPAddress.Parse("10.99.0.1");
    private static readonly IPAddress Public = IPAddress.Parse("198.51.100.10");
    private static readonly TimeSpan Drain = TimeSpan.FromSeconds(5);

    private enum Kind
    {
        Create,
        Refresh,
        Delete,
    }

    public static int Run(string[] args)
    {
        var present = args.Length > 0 ? args[0].Split(',').Select(int.Parse).ToArray() : [0, 10_000, 100_000];
        var rate = args.Length > 1 ? int.Parse(args[1]) : 10_000;
        var seconds = args.Length > 2 ? double.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 3;
        var clients = args.Length > 3 ? int.Parse(args[3]) : 64;
        var workers = args.Length > 4 ? int.Parse(args[4]) : new PortMappingServerOptions { ListenAddress = Gateway }.ConcurrentRequests;
        Console.WriteLine($"open loop: {clients} clients, {workers} server workers, offered {rate} changes/s for {seconds} s; latencies in µs from the scheduled send");
        Console.WriteLine($"{"present",8} {"offered",8} {"achieved",9} {"lost",6} {"failed",6} {"batch",6} "
            + $"{"cr p50",7} {"cr p99",7} {"cr p999",7} {"rf p50",7} {"rf p99",7} {"rf p999",7} {"de p50",7} {"de p99",7} {"de p999",7}");
        foreach (var n in present)
        {
            var r = Measure(n, rate, seconds, clients, workers);
            Console.WriteLine($"{n,8} {rate,8} {r.Achieved,9:F0} {r.Lost,6} {r.Failed,6} {r.MeanBatch,6:F1} "
                + string.Join(' ', r.Percentiles.Select(p => $"{p,7:F0}")));
        }
        return 0;
    }

    private sealed record Result(double Achieved, int Lost, int Failed, double MeanBatch, double[] Percentiles);

    private sealed class Client(Socket socket)
    {
        public Socket Socket { get; } = socket;
        public Queue<(long Scheduled, long Sent, Kind Kind, ushort Port)> InFlight { get; } = new();
        public int Step { get; set; }
    }

    private static Result Measure(int present, int rate, double seconds, int clientCount, int workers)
    {
        using var table = new TimedTable(new NftForwardingTable());
        table.Install(MappingStack.Network(Gateway, Public));
        using var service = new ForwardingService(table, [Public], MappingStack.Policy(), TimeProvider.System, NullLogger<ForwardingService>.Instance);
        service.Start();
        MappingStack.Prepopulate(service, present);
        var clientAddresses = Enumerable.Range(1, clientCount).Select(i => IPAddress.Parse($"10.99.2.{i}")).ToArray();
        for (var i = 0; i < clientCount; i++)
            service.PeerSessionStarted($"c{i}", clientAddresses[i]);

        var server = new PortMappingServer(service, new PortMappingServerOptions { ListenAddress = Gateway, ConcurrentRequests = workers });
        server.StartAsync().GetAwaiter().GetResult();
        var clients = clientAddresses.Select(a =>
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            s.Bind(new IPEndPoint(a, 0));
            s.Connect(new IPEndPoint(Gateway, 5351));
            return new Client(s);
        }).ToArray();
        // Per kind from the scheduled send; then, all kinds together, from the actual send (the server's and the
        // receivers' share) and the sender's own lateness (the load generator's share).
        var latencies = new[] { new List<double>(), new List<double>(), new List<double>(), new List<double>() };
        var lateness = new List<double>((int)(rate * seconds));
        var failed = 0;
        var answered = 0;
        long lastAnswer = 0;
        var (batchesBefore, requestsBefore) = service.BatchTotals;
        table.Reset();
        try
        {
            // A thread per client: blocking receives on pool threads would starve the pool the server runs on.
            var receivers = clients.Select(c => new Thread(() => Receive(c, latencies, ref failed, ref answered, ref lastAnswer)) { IsBackground = true }).ToArray();
            foreach (var thread in receivers)
                thread.Start();
            var total = (int)(rate * seconds);
            var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var start = Stopwatch.GetTimestamp();
            var request = new byte[12];
            var sent = 0;
            // Every tick sends what the schedule says is due by now; a late send keeps its scheduled time.
            while (sent < total)
            {
                var now = Stopwatch.GetTimestamp();
                while (sent < total)
                {
                    var scheduled = start + (long)(sent * (double)Stopwatch.Frequency / rate);
                    if (scheduled > now)
                        break;
                    var client = clients[sent % clientCount];
                    var kind = (Kind)(client.Step % 3);
                    var port = (ushort)(1024 + (client.Step / 3 % 30_000));
                    client.Step++;
                    request[1] = 2; // map TCP
                    BinaryPrimitives.WriteUInt16BigEndian(request.AsSpan(4), port);
                    BinaryPrimitives.WriteUInt32BigEndian(request.AsSpan(8), kind == Kind.Delete ? 0u : kind == Kind.Create ? 3600u : 3000u);
                    var sentAt = Stopwatch.GetTimestamp();
                    lateness.Add((sentAt - scheduled) * 1e6 / Stopwatch.Frequency);
                    lock (client)
                        client.InFlight.Enqueue((scheduled, sentAt, kind, port));
                    client.Socket.Send(request);
                    sent++;
                }
                Thread.Sleep(1);
            }
            var deadline = Stopwatch.GetTimestamp() + (long)(Drain.TotalSeconds * Stopwatch.Frequency);
            while (Volatile.Read(ref answered) + Volatile.Read(ref failed) < total && Stopwatch.GetTimestamp() < deadline)
                Thread.Sleep(10);
            foreach (var c in clients)
                c.Socket.Dispose();
            foreach (var thread in receivers)
                thread.Join();
            var (batches, requests) = service.BatchTotals;
            var elapsed = (Interlocked.Read(ref lastAnswer) - start) / (double)Stopwatch.Frequency;
            // Server and clients together, over the run and its drain: what the load costs the 2 cores.
            var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds;
            var wall = Stopwatch.GetElapsedTime(start).TotalSeconds;
            Console.Error.WriteLine($"  present {present}: this process used {cpu / wall:F2} cores ({cpu * 1e6 / Math.Max(1, answered):F0} µs of CPU per answered request, clients included)");
            var percentiles = new List<double>();
            foreach (var list in latencies.Append(lateness))
                list.Sort();
            Console.Error.WriteLine($"  present {present}: µs from the actual send p50 / p99 / p99.9 {Percentile(latencies[3], 0.5):F0} / "
                + $"{Percentile(latencies[3], 0.99):F0} / {Percentile(latencies[3], 0.999):F0}; sender late p50 / p99 / p99.9 "
                + $"{Percentile(lateness, 0.5):F0} / {Percentile(lateness, 0.99):F0} / {Percentile(lateness, 0.999):F0}");
            foreach (var list in latencies[..3])
            {
                list.Sort();
                percentiles.Add(Percentile(list, 0.50));
                percentiles.Add(Percentile(list, 0.99));
                percentiles.Add(Percentile(list, 0.999));
            }
            Console.Error.WriteLine($"  present {present}: {table.Summary()}");
            return new Result(answered / elapsed, total - answered - failed, failed,
                (requests - requestsBefore) / (double)Math.Max(1, batches - batchesBefore), [.. percentiles]);
        }
        finally
        {
            server.DisposeAsync().AsTask().GetAwaiter().GetResult();
            table.Uninstall();
        }
    }

    // Answers come back in the order sent (the server handles one client's requests one at a time, in order).
    private static void Receive(Client client, List<double>[] latencies, ref int failed, ref int answered, ref long lastAnswer)
    {
        var buffer = new byte[64];
        while (true)
        {
            int n;
            try
            {
                n = client.Socket.Receive(buffer);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }
            var now = Stopwatch.GetTimestamp();
            if (n != 16)
            {
                Interlocked.Increment(ref failed);
                continue;
            }
            var answeredPort = BinaryPrimitives.ReadUInt16BigEndian(buffer.AsSpan(8));
            (long Scheduled, long Sent, Kind Kind, ushort Port) head = default;
            var found = false;
            lock (client)
            {
                // Requests ahead of the answered one were dropped (a full backlog): they stay unanswered (lost).
                while (client.InFlight.TryDequeue(out head))
                {
                    if (head.Port == answeredPort)
                    {
                        found = true;
                        break;
                    }
                }
            }
            if (!found || BinaryPrimitives.ReadUInt16BigEndian(buffer.AsSpan(2)) != 0)
            {
                Interlocked.Increment(ref failed);
                continue;
            }
            var list = latencies[(int)head.Kind];
            lock (list)
                list.Add((now - head.Scheduled) * 1e6 / Stopwatch.Frequency);
            lock (latencies[3])
                latencies[3].Add((now - head.Sent) * 1e6 / Stopwatch.Frequency);
            Interlocked.Increment(ref answered);
            InterlockedMax(ref lastAnswer, now);
        }
    }

    private static void InterlockedMax(ref long target, long value)
    {
        var current = Interlocked.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
                return;
            current = seen;
        }
    }

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)(p * sorted.Count))];
}
