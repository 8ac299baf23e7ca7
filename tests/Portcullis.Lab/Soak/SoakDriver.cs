using System.Globalization;
using Portcullis.Lab.Gateway;
using Portcullis.Lab.Harness;

namespace Portcullis.Lab.Soak;

/// <summary>How long and how hard the soak runs; the seed makes a run repeatable (same choices in the same order).</summary>
internal sealed record SoakOptions(int Peers, int Steps, TimeSpan? Duration, int Seed)
{
    /// <summary>From the environment (bench/soak/run sets these); the defaults are the bounded CI run.</summary>
    public static SoakOptions FromEnvironment()
    {
        static int? Number(string name) =>
            int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : null;
        var minutes = Number("PORTCULLIS_SOAK_MINUTES");
        return new SoakOptions(
            Peers: Math.Clamp(Number("PORTCULLIS_SOAK_PEERS") ?? 6, 2, 50),
            Steps: Number("PORTCULLIS_SOAK_STEPS") ?? 80,
            Duration: minutes is { } m ? TimeSpan.FromMinutes(m) : null,
            Seed: Number("PORTCULLIS_SOAK_SEED") ?? Random.Shared.Next());
    }
}

/// <summary>
/// The soak: peers connect, map (NAT-PMP, natpmpc), refresh, delete, carry traffic from the internet to their mapped
/// port, disconnect and reconnect, chosen at random from a seed; now and then the gateway is SIGKILLed and started
/// again. After every step <see cref="SoakInvariants"/> checks the kernel and the admin API, and the gateway's open
/// descriptors and resident memory are sampled (<see cref="SoakResources"/>).
/// </summary>
internal sealed class SoakDriver(SoakLab lab, SoakOptions options, Action<string> log)
{
    private const int MaxHeld = 3; // below max_per_peer (4), so a map request is never refused for quota
    private static readonly int[] InternalPorts = [8000, 8001, 8002];
    private static readonly TimeSpan PortMemory = TimeSpan.FromSeconds(30); // reconnect_grace in SoakLab's config

    private readonly Random _random = new(options.Seed);
    private readonly SoakInvariants _invariants = new(lab, log);
    private readonly Dictionary<SoakPeer, (DateTime Down, Dictionary<(string, int), int> Held)> _remembered = [];

    public SoakResources Resources { get; } = new();

    public int Kills { get; private set; }

    public Dictionary<string, int> Counts { get; } = [];

    public async Task RunAsync()
    {
        foreach (var peer in lab.Peers)
            await lab.ConnectAsync(peer);
        var peers = await lab.AdminAsync("peer", "list");
        foreach (var entry in peers.EnumerateArray())
            lab.Peers.Single(p => p.Name == entry.GetProperty("name").GetString()).Id = entry.GetProperty("id").GetString()!;
        Resources.NewLifetime(lab.GatewayProcess.Id);
        await _invariants.CheckAsync("after every peer connected");

        var started = DateTime.UtcNow;
        for (var step = 1; options.Duration is { } duration ? DateTime.UtcNow - started < duration : step <= options.Steps; step++)
        {
            // CI's bounded run kills the gateway once at half way at least; the long run about every 60 steps.
            var kill = options.Duration is null ? step == options.Steps / 2 : _random.Next(60) == 0;
            var what = kill ? await KillAndRestartAsync() : await RandomActionAsync();
            Counts[what.Split(' ')[0]] = Counts.GetValueOrDefault(what.Split(' ')[0]) + 1;
            await _invariants.CheckAsync($"after step {step} ({what}; seed {options.Seed})");
            Resources.Sample();
        }
        await DrainAsync();
        Resources.AssertFlat(log);
    }

    /// <summary>
    /// Every client stops; each session then ends by its timeout and takes its mappings along, so the kernel's map
    /// empties within the session timeout plus the grace (waited for as an event, bounded).
    /// </summary>
    private async Task DrainAsync()
    {
        if (!lab.Peers.Any(p => p.Tunnel is not null && p.Mappings.Count > 0))
        {
            var peer = lab.Peers[0];
            if (peer.Tunnel is null)
                await ConnectAsync(peer);
            if (peer.Mappings.Count == 0)
                log(await MapAsync(peer));
        }
        foreach (var peer in lab.Peers.Where(p => p.Tunnel is not null))
            await DisconnectAsync(peer);
        var held = (await _invariants.KernelAsync()).Count;
        var emptied = await Wait.UntilAsync(async () => (await _invariants.KernelAsync()).Count == 0,
            SoakLab.SessionTimeout + SoakInvariants.Grace, TimeSpan.FromMilliseconds(500));
        await _invariants.CheckAsync($"after every client stopped ({held} mappings then; seed {options.Seed})");
        if (!emptied)
            throw new Xunit.Sdk.XunitException($"mappings outlived their sessions: {string.Join(", ", await _invariants.KernelAsync())} (seed {options.Seed})");
        Counts["drained"] = held;
    }

    private async Task<string> RandomActionAsync()
    {
        while (true)
        {
            var peer = lab.Peers[_random.Next(lab.Peers.Count)];
            var choice = _random.Next(100);
            if (peer.Tunnel is null)
            {
                await ConnectAsync(peer);
                return $"connect {peer}";
            }
            switch (choice)
            {
                case < 35 when peer.Mappings.Count < MaxHeld:
                    return await MapAsync(peer);
                case < 50 when peer.Mappings.Count > 0:
                    return await RefreshAsync(peer);
                case < 60 when peer.Mappings.Count > 0:
                    return await DeleteAsync(peer);
                case < 75 when peer.Mappings.Keys.Any(k => k.Protocol == "tcp"):
                    return await TransferAsync(peer);
                case >= 75 and < 90:
                    await DisconnectAsync(peer);
                    return $"disconnect {peer}";
                case >= 90:
                    await DisconnectAsync(peer);
                    await ConnectAsync(peer);
                    return $"reconnect {peer}";
            }
        }
    }

    private async Task<string> MapAsync(SoakPeer peer)
    {
        var protocol = _random.Next(2) == 0 ? "tcp" : "udp";
        var free = InternalPorts.Where(p => !peer.Mappings.ContainsKey((protocol, p))).ToList();
        if (free.Count == 0)
            return await RefreshAsync(peer);
        var internalPort = free[_random.Next(free.Count)];
        var port = await NatPmpClient.MapCheckedAsync(peer.Host, protocol, internalPort, lifetime: 600);
        // A peer whose session ended gets its port back within the reconnect grace (README: reconnect_grace).
        if (_remembered.TryGetValue(peer, out var before) && DateTime.UtcNow - before.Down < PortMemory
            && before.Held.TryGetValue((protocol, internalPort), out var previous) && previous != port)
            throw new Xunit.Sdk.XunitException($"{peer} came back within the grace and got {protocol} port {port}, not its {previous} (seed {options.Seed})");
        peer.Mappings[(protocol, internalPort)] = port;
        return $"map {peer} {protocol} {port}->{internalPort}";
    }

    private async Task<string> RefreshAsync(SoakPeer peer)
    {
        var (key, port) = peer.Mappings.ElementAt(_random.Next(peer.Mappings.Count));
        var again = await NatPmpClient.MapCheckedAsync(peer.Host, key.Protocol, key.InternalPort, lifetime: 600);
        if (again != port)
            throw new Xunit.Sdk.XunitException($"{peer} refreshed {key.Protocol} {port}->{key.InternalPort} and got port {again} (seed {options.Seed})");
        return $"refresh {peer} {key.Protocol} {port}";
    }

    private async Task<string> DeleteAsync(SoakPeer peer)
    {
        var (key, port) = peer.Mappings.ElementAt(_random.Next(peer.Mappings.Count));
        var outcome = await NatPmpClient.MapAsync(peer.Host, key.Protocol, 0, key.InternalPort, lifetime: 0);
        if (!outcome.Result.Succeeded)
            throw new Xunit.Sdk.XunitException($"{peer} could not delete {key.Protocol} {port}: {outcome} (seed {options.Seed})");
        peer.Mappings.Remove(key);
        // A port the client gave back is not remembered for it (only a session's end keeps it for the grace).
        if (_remembered.TryGetValue(peer, out var before))
            before.Held.Remove(key);
        return $"delete {peer} {key.Protocol} {port}";
    }

    /// <summary>The remote host connects to the peer's public port; the peer's own listener must answer.</summary>
    private async Task<string> TransferAsync(SoakPeer peer)
    {
        var tcp = peer.Mappings.Where(m => m.Key.Protocol == "tcp").ToList();
        var (key, port) = tcp[_random.Next(tcp.Count)];
        await using var listener = await Probes.ListenAsync(peer.Host, "tcp", key.InternalPort);
        var answer = await Probes.AskAsync(lab.Remote, "tcp", SoakLab.PublicAddress, port, timeoutSeconds: 5);
        if (answer is null || !answer.StartsWith(peer.Name + " from 192.0.2.100", StringComparison.Ordinal))
            throw new Xunit.Sdk.XunitException($"the internet reached public port {port} of {peer} and heard '{answer}' (seed {options.Seed})\n{lab.Diagnostics()}");
        return $"transfer {peer} {port}";
    }

    private async Task DisconnectAsync(SoakPeer peer)
    {
        await lab.DisconnectAsync(peer);
        _remembered[peer] = (DateTime.UtcNow, new Dictionary<(string, int), int>(peer.Mappings));
    }

    /// <summary>
    /// Connects; the mappings it still holds are those its session kept (a reconnect before the session timed out) —
    /// never one it did not have.
    /// </summary>
    private async Task ConnectAsync(SoakPeer peer)
    {
        var before = new Dictionary<(string, int), int>(peer.Mappings);
        await lab.ConnectAsync(peer);
        peer.Mappings.Clear();
        foreach (var held in (await _invariants.KernelAsync()).Where(m => m.Owner == peer.Id))
        {
            if (!before.TryGetValue((held.Protocol, held.InternalPort), out var port) || port != held.PublicPort)
                throw new Xunit.Sdk.XunitException($"{peer} reconnected and holds {held}, which it never had (seed {options.Seed})");
            peer.Mappings[(held.Protocol, held.InternalPort)] = held.PublicPort;
        }
    }

    private async Task<string> KillAndRestartAsync()
    {
        await lab.KillGatewayAsync();
        Kills++;
        await lab.StartGatewayAsync();
        Resources.NewLifetime(lab.GatewayProcess.Id);
        // The restarted gateway knows no session and no lease: it removed what the kernel still held before any traffic.
        _remembered.Clear();
        foreach (var peer in lab.Peers)
            peer.Mappings.Clear();
        // It calls its remembered peers back; every connected peer is reachable again without touching its client.
        foreach (var peer in lab.Peers.Where(p => p.Tunnel is not null))
        {
            if (!await peer.Host.PingUntilAsync(SoakLab.GatewayTunnelAddress, TimeSpan.FromSeconds(45)))
                throw new Xunit.Sdk.XunitException($"{peer} never reached the restarted gateway (seed {options.Seed})\n{lab.GatewayProcess}");
        }
        return "kill the gateway (SIGKILL) and start it again";
    }
}
