namespace Portcullis.Lab.Harness;

/// <summary>
/// One network namespace of the lab. Commands run in it through <c>ip netns exec</c>; processes started in it
/// belong to the <see cref="LabNetwork"/>, which ends them when it is disposed.
/// </summary>
public sealed class LabHost
{
    private readonly LabNetwork _network;

    internal LabHost(LabNetwork network, string name, string netns, LabSegment? segment, string? address, string? address6)
    {
        _network = network;
        Name = name;
        Namespace = netns;
        Segment = segment;
        Address = address;
        Address6 = address6;
    }

    /// <summary>The short name the test gave (e.g. "client").</summary>
    public string Name { get; }

    /// <summary>The namespace name, unique per run.</summary>
    public string Namespace { get; }

    /// <summary>The segment this host hangs off; null for the router and for a host routed through another.</summary>
    public LabSegment? Segment { get; }

    /// <summary>The host's IPv4 address on its segment (interface <c>eth0</c>); null for the router.</summary>
    public string? Address { get; }

    /// <summary>The host's IPv6 address on its segment; null for the router.</summary>
    public string? Address6 { get; }

    public LabNetwork Network => _network;

    public Task<CommandResult> RunAsync(params string[] command) => RunAsync(command, RunOptions.Default);

    public Task<CommandResult> RunAsync(IReadOnlyList<string> command, RunOptions options) =>
        ProcessRunner.RunAsync(InNamespace(command), options);

    /// <summary>Runs a command and returns its stdout; throws <see cref="LabCommandException"/> with stderr if it fails.</summary>
    public async Task<string> RunCheckedAsync(params string[] command) =>
        (await RunAsync(command, RunOptions.Default with { Check = true })).Stdout;

    /// <summary>Starts a foreground child in this namespace; the network reaps it on disposal if the test does not.</summary>
    public LabProcess Start(params string[] command) => Start(command, environment: null);

    public LabProcess Start(IReadOnlyList<string> command, IReadOnlyDictionary<string, string>? environment)
    {
        var process = new LabProcess($"{Name}: {string.Join(' ', command)}", InNamespace(command), environment);
        _network.Track(process);
        return process;
    }

    /// <summary>Whether one ping (1 s timeout) to <paramref name="address"/> gets an answer.</summary>
    public async Task<bool> PingAsync(string address, int count = 1)
    {
        var result = await RunAsync(["ping", "-n", "-q", "-c", count.ToString(), "-W", "1", address], RunOptions.Default);
        return result.Succeeded;
    }

    /// <summary>Pings until one answer arrives or <paramref name="timeout"/> passes (handshakes take a moment).</summary>
    public async Task<bool> PingUntilAsync(string address, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        do
        {
            if (await PingAsync(address))
                return true;
        }
        while (DateTime.UtcNow < deadline);
        return false;
    }

    private string[] InNamespace(IReadOnlyList<string> command)
    {
        var argv = new string[command.Count + 4];
        argv[0] = "ip";
        argv[1] = "netns";
        argv[2] = "exec";
        argv[3] = Namespace;
        for (var i = 0; i < command.Count; i++)
            argv[i + 4] = command[i];
        return argv;
    }

    public override string ToString() => $"{Name} ({Namespace} {Address})";
}
