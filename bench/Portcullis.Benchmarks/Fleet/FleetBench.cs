using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NpgsqlTypes;
using Portcullis.Gateway.Fleet;
using Portcullis.Gateway.Store;
using Portcullis.Gateway.Store.Postgres;
using Portcullis.PortMapping;

namespace Portcullis.Benchmarks.Fleet;

// bench/fleet: N simulated gateways — each a real PostgresGatewayStore and PostgresChangeFeed in this process, applying
// every change the way a gateway's operations read it (the changed peers, then their forwards) — against one
// PostgreSQL holding 100 000 peers and 100 000 static forwards.
//  1. seed (COPY, triggers off): PEERS peers in 10.96.0.0/12, FORWARDS fleet-wide forwards
//  2. start-up: load every peer, forward, dedicated address and the policy, and build the directory and this
//     gateway's rules, as GatewayHost does at start (the kernel and the WireGuard device are not part of it)
//  3. for each N: N gateways join; CHANGES times a peer is disabled or enabled by a writer, one after another, each
//     timed from the write's start until all N applied it (propagation p50/p99); then WRITERS concurrent writers
//     add and remove static forwards for SECONDS (admin writes per second, fanned out to the N listeners)
//  4. the same write loop adding peers (the lowest-free tunnel address search at 100 000 peers)
internal static class FleetBench
{
    private static readonly TunnelAddressPool Pool = new(IPNetwork.Parse("10.96.0.0/12"), IPAddress.Parse("10.96.0.1"));

    // Issue 9: a change made through any gateway is in force on every gateway within 2 s (p99).
    private const double PromisedMs = 2000;

    public static int Run(string[] args)
    {
        var options = Options.Parse(args);
        if (options is null)
        {
            Console.Error.WriteLine("usage: fleet --url URL [--gateways 1,10,50] [--peers 100000] [--forwards 100000] [--changes 200] [--writers 4] [--seconds 5]");
            return 2;
        }
        return RunAsync(options).GetAwaiter().GetResult();
    }

    private static async Task<int> RunAsync(Options o)
    {
        var url = PostgresUrl.Parse(o.Url);
        await using var admin = await PostgresGatewayStore.OpenAsync(url, "");
        Console.WriteLine($"seeding {o.Peers} peers and {o.Forwards} static forwards …");
        var ids = await SeedAsync(admin, o.Peers, o.Forwards);

        var startup = await StartupAsync(url, o.Peers);
        Console.WriteLine();
        Console.WriteLine($"| gateways | propagation p50 | p99 | max | forward writes/s ({o.Writers} writers) |");
        Console.WriteLine("|---|---|---|---|---|");
        var promise = new List<string>();
        foreach (var n in o.Gateways)
        {
            var (p50, p99, max) = await PropagationAsync(url, admin, ids, n, o.Changes);
            promise.Add(string.Create(CultureInfo.InvariantCulture, $"N = {n}: {(p99 <= PromisedMs ? "held" : "NOT held")} ({p99 / PromisedMs:0.000} of it)"));
            var writes = await WritesAsync(admin, ids, o.Writers, o.Seconds, peers: false);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {n} | {p50:0.0} ms | {p99:0.0} ms | {max:0.0} ms | {writes:0} |"));
        }
        var peerWrites = await WritesAsync(admin, ids, o.Writers, o.Seconds, peers: true);
        Console.WriteLine();
        Console.WriteLine($"a change in force on every gateway within {PromisedMs / 1000:0} s (p99), as the fleet promises: {string.Join("; ", promise)}");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"peer adds (lowest free address among {o.Peers}): {peerWrites:0} writes/s"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"start-up load at {o.Peers} peers / {o.Forwards} forwards: {startup.TotalMilliseconds:0} ms (store reads, directory, this gateway's rules)"));
        return 0;
    }

    private static async Task<string[]> SeedAsync(PostgresGatewayStore store, int peers, int forwards)
    {
        await using var connection = await store.Source.OpenConnectionAsync();
        await using (var off = new NpgsqlCommand("ALTER TABLE peers DISABLE TRIGGER USER; ALTER TABLE static_forwards DISABLE TRIGGER USER", connection))
            await off.ExecuteNonQueryAsync();
        var ids = new string[peers];
        await using (var import = await connection.BeginBinaryImportAsync(
            "COPY peers (id, name, public_key, tunnel_address, enabled, created_utc_ms) FROM STDIN (FORMAT BINARY)"))
        {
            var key = new byte[32];
            for (var i = 0; i < peers; i++)
            {
                ids[i] = Guid.NewGuid().ToString("N");
                BitConverter.TryWriteBytes(key, i);
                await import.StartRowAsync();
                await import.WriteAsync(ids[i], NpgsqlDbType.Text);
                await import.WriteAsync($"p{i}", NpgsqlDbType.Text);
                await import.WriteAsync(Convert.ToBase64String(key), NpgsqlDbType.Text);
                await import.WriteAsync(new IPAddress(BitConverter.GetBytes(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(0x0A600002u + (uint)i))), NpgsqlDbType.Inet);
                await import.WriteAsync(true, NpgsqlDbType.Boolean);
                await import.WriteAsync(0L, NpgsqlDbType.Bigint);
            }
            await import.CompleteAsync();
        }
        await using (var import = await connection.BeginBinaryImportAsync(
            "COPY static_forwards (public_address, protocol, external_port, peer_id, internal_port) FROM STDIN (FORMAT BINARY)"))
        {
            for (var i = 0; i < forwards; i++)
            {
                await import.StartRowAsync();
                await import.WriteAsync("0.0.0.0", NpgsqlDbType.Text);
                await import.WriteAsync(i % 2 == 0 ? "tcp" : "udp", NpgsqlDbType.Text);
                await import.WriteAsync(1024 + (i / 2), NpgsqlDbType.Integer);
                await import.WriteAsync(ids[i % peers], NpgsqlDbType.Text);
                await import.WriteAsync(8080, NpgsqlDbType.Integer);
            }
            await import.CompleteAsync();
        }
        await using (var on = new NpgsqlCommand("ALTER TABLE peers ENABLE TRIGGER USER; ALTER TABLE static_forwards ENABLE TRIGGER USER; ANALYZE", connection))
            await on.ExecuteNonQueryAsync();
        return ids;
    }

    private static async Task<TimeSpan> StartupAsync(PostgresUrl url, int peers)
    {
        await using var store = await PostgresGatewayStore.OpenAsync(url, "startup");
        var clock = Stopwatch.StartNew();
        var all = await store.ListPeersAsync();
        var forwards = await store.ListForwardsAsync();
        var dedicated = await store.ListDedicatedAddressesAsync();
        _ = (await store.GetGatewayPolicyAsync("startup")).Over(await store.GetPolicyAsync());
        var directory = new Dictionary<string, StoredPeer>(all.Count, StringComparer.Ordinal);
        var byKey = new Dictionary<string, StoredPeer>(all.Count, StringComparer.Ordinal);
        foreach (var peer in all)
        {
            if (!peer.Enabled)
                continue;
            directory[peer.Id] = peer;
            byKey[peer.PublicKey] = peer;
        }
        var scope = new GatewayScope("startup", [IPAddress.Parse("198.51.100.10")]);
        var rules = scope.Rules(forwards, scope.OwnDedicated(dedicated));
        clock.Stop();
        if (directory.Count < peers || rules.Count == 0)
            throw new InvalidOperationException("start-up loaded less than was seeded");
        return clock.Elapsed;
    }

    private static async Task<(double P50, double P99, double Max)> PropagationAsync(
        PostgresUrl url, PostgresGatewayStore writer, string[] ids, int gateways, int changes)
    {
        var pending = new ConcurrentDictionary<string, CountdownEvent>(StringComparer.Ordinal);
        var members = new List<(PostgresGatewayStore Store, PostgresChangeFeed Feed)>();
        try
        {
            for (var g = 0; g < gateways; g++)
            {
                var store = await PostgresGatewayStore.OpenAsync(url, $"bench{g}");
                var feed = new PostgresChangeFeed(store, NullLogger.Instance);
                await feed.StartAsync(CancellationToken.None);
                feed.Attach(async (change, cancellationToken) =>
                {
                    // What a gateway reads for a change: the peers it names, then their forwards.
                    var peers = await store.GetPeersAsync(change.PeerIds, cancellationToken);
                    await store.ListForwardsOfAsync(change.PeerIds, cancellationToken);
                    foreach (var peer in peers)
                    {
                        if (pending.TryGetValue(peer.Id, out var countdown) && !countdown.IsSet)
                            countdown.Signal();
                    }
                });
                members.Add((store, feed));
            }

            var times = new List<double>(changes);
            for (var i = 0; i < changes; i++)
            {
                var id = ids[(i * 7919) % ids.Length];
                using var countdown = new CountdownEvent(gateways);
                pending[id] = countdown;
                var clock = Stopwatch.StartNew();
                await writer.SetPeerEnabledAsync(id, i % 2 == 0 ? false : true);
                if (!countdown.Wait(TimeSpan.FromSeconds(30)))
                    throw new TimeoutException($"change {i} did not reach all {gateways} gateways within 30 s");
                times.Add(clock.Elapsed.TotalMilliseconds);
                pending.TryRemove(id, out _);
                await writer.SetPeerEnabledAsync(id, true);
                // Let the restore's notifications drain before the next timed change.
                await Task.Delay(5);
            }
            times.Sort();
            return (times[times.Count / 2], times[Math.Min(times.Count - 1, (int)Math.Ceiling(times.Count * 0.99) - 1)], times[^1]);
        }
        finally
        {
            foreach (var (store, feed) in members)
            {
                await feed.DisposeAsync();
                await store.DisposeAsync();
            }
        }
    }

    private static async Task<double> WritesAsync(PostgresGatewayStore store, string[] ids, int writers, int seconds, bool peers)
    {
        var done = 0;
        var stop = DateTime.UtcNow + TimeSpan.FromSeconds(seconds);
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            for (var i = 0; DateTime.UtcNow < stop; i++)
            {
                if (peers)
                {
                    var added = await store.AddPeerAsync(new NewPeer { Name = $"w{w}-{i}-{Guid.NewGuid():N}"[..20], PublicKey = Convert.ToBase64String(Guid.NewGuid().ToByteArray().Concat(Guid.NewGuid().ToByteArray()).ToArray()) }, Pool);
                    await store.RemovePeerAsync(added.Id);
                }
                else
                {
                    var forward = new StoredForward
                    {
                        PublicAddress = IPAddress.Parse(string.Create(CultureInfo.InvariantCulture, $"203.0.113.{w + 1}")),
                        Protocol = MappingProtocol.Tcp,
                        ExternalPort = (ushort)(1024 + (i % 60000)),
                        PeerId = ids[(w * 1000 + i) % ids.Length],
                        InternalPort = 80,
                    };
                    await store.AddForwardAsync(forward);
                    await store.RemoveForwardAsync(forward.Key);
                }
                Interlocked.Add(ref done, 2);
            }
        })));
        return done / clock.Elapsed.TotalSeconds;
    }

    private sealed record Options(string Url, int[] Gateways, int Peers, int Forwards, int Changes, int Writers, int Seconds)
    {
        public static Options? Parse(string[] args)
        {
            string? url = null;
            int[] gateways = [1, 10, 50];
            int peers = 100_000, forwards = 100_000, changes = 200, writers = 4, seconds = 5;
            for (var i = 0; i + 1 < args.Length; i += 2)
            {
                var value = args[i + 1];
                switch (args[i])
                {
                    case "--url": url = value; break;
                    case "--gateways": gateways = [.. value.Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture))]; break;
                    case "--peers": peers = int.Parse(value, CultureInfo.InvariantCulture); break;
                    case "--forwards": forwards = int.Parse(value, CultureInfo.InvariantCulture); break;
                    case "--changes": changes = int.Parse(value, CultureInfo.InvariantCulture); break;
                    case "--writers": writers = int.Parse(value, CultureInfo.InvariantCulture); break;
                    case "--seconds": seconds = int.Parse(value, CultureInfo.InvariantCulture); break;
                    default: return null;
                }
            }
            return url is null ? null : new Options(url, gateways, peers, forwards, changes, writers, seconds);
        }
    }
}
